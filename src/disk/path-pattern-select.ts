// A COPY's whole selection in memory, for COPY itself: the items and entries that visitSources streams, with exact stats.
import type { BigIntStats } from 'node:fs';
import { lstatBigInt, visitSources, type SelectOptions } from './source-visit.js';

export { CopySourceNotFoundError } from './source-visit.js';
export type { SelectOptions } from './source-visit.js';

export interface SelectedEntry {
  /** Slash path relative to the item ("" never appears here: the item itself is not an entry). */
  readonly rel: string;
  readonly hostPath: string;
  /** lstat: symlinks inside a tree are entries of their own, never followed. */
  readonly stat: BigIntStats;
}

export interface SelectedItem {
  /** The source as written in the Dockerfile. */
  readonly source: string;
  /** The path as matched, before a symlink source was followed: its base name names the copy inside a dest dir. */
  readonly matchedPath: string;
  /** Where the item is, relative to the source root ("" for the root itself), after symlinks were followed. */
  readonly relPath: string;
  readonly hostPath: string;
  readonly stat: BigIntStats;
  /** For a directory: the visible descendants, parents before children, names sorted. Empty otherwise. */
  readonly entries: readonly SelectedEntry[];
}

/**
 * Expands the sources of one COPY against a source root. Every source must select something
 * (else CopySourceNotFoundError naming it). Paths never leave root: ".." and symlinks resolve inside it.
 */
export async function selectSources(opts: SelectOptions): Promise<SelectedItem[]> {
  const items: SelectedItem[] = [];
  let entries: SelectedEntry[] = [];
  await visitSources(opts, lstatBigInt, {
    item(item) {
      entries = [];
      items.push({ ...item, entries });
    },
    entry(rel, hostPath, stat) {
      entries.push({ rel, hostPath, stat });
    },
  });
  return items;
}
