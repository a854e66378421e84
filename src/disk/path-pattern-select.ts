// What a COPY reads from a source root: sources and wildcards expanded, .dockerignore / --exclude / --parents applied, trees walked.
// COPY itself and its cache checksum both use this, so the key covers exactly the files that are copied.
import { lstatSync, readdirSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { KilnError } from '../errors.js';
import { ExcludeMatcher, type ParentMatchInfo } from './dockerignore.js';
import { cleanPath, hasWildcards, SourcePattern } from './path-pattern.js';
import { containerPathOf, resolveInRoot } from './resolve-in-root.js';

/** A COPY/ADD source that matches nothing (missing, outside the context, or excluded by .dockerignore). */
export class CopySourceNotFoundError extends KilnError {
  constructor(readonly source: string, wildcard: boolean) {
    super(
      wildcard
        ? `no source files were specified: ${JSON.stringify(source)} matches no file in the build context (or every match is excluded by .dockerignore)`
        : `file not found in build context or excluded by .dockerignore: stat ${source}: file does not exist`,
    );
  }
}

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

export interface SelectOptions {
  /** Host directory of the source (context dir or another stage's root). */
  readonly root: string;
  /** Sources as written: paths or wildcard patterns relative to root. */
  readonly src: readonly string[];
  /** Patterns of the source itself (.dockerignore), relative to root. */
  readonly ignore: readonly string[];
  /** COPY --exclude patterns: relative to each copied directory, and to root for the top-level match. */
  readonly exclude: readonly string[];
  /** Follow a source that is itself a symlink (Docker COPY does). */
  readonly followTopSymlinks: boolean;
  /** COPY --parents: each source "pivot/./pattern" (or "pattern" with pivot "/") selects from the pivot dir by include pattern. */
  readonly parents: boolean;
}

interface Filters {
  readonly ignore: ExcludeMatcher | null;
  readonly exclude: ExcludeMatcher | null;
  readonly include: ExcludeMatcher | null;
}

interface WalkInfo {
  readonly ignore: ParentMatchInfo;
  readonly exclude: ParentMatchInfo;
  readonly include: ParentMatchInfo;
}

const NO_INFO: WalkInfo = { ignore: [], exclude: [], include: [] };

function joinRel(a: string, b: string): string {
  return a === '' ? b : `${a}/${b}`;
}

function matcherOrNull(patterns: readonly string[]): ExcludeMatcher | null {
  const m = new ExcludeMatcher(patterns);
  return m.isEmpty ? null : m;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

// The walk uses synchronous lstat/readdir on purpose: one syscall each on a warm dentry cache, several
// times faster than a thread-pool round trip per entry, and a context walk is short.
function lstatOrNull(hostPath: string): BigIntStats | null {
  try {
    return lstatSync(hostPath, { bigint: true });
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

function byteOrder(a: string, b: string): number {
  // UTF-16 order equals UTF-8 byte order except around surrogate pairs; only those pay for a byte compare.
  if (/[\uD800-\uDFFF]/.test(a) || /[\uD800-\uDFFF]/.test(b)) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedNames(hostDir: string): string[] {
  // Byte order, like Go's os.ReadDir, so walks (and checksums) are stable.
  return readdirSync(hostDir).sort(byteOrder);
}

/** Walks a directory; `rootRel` is its path from the source root, `itemRel` from the copied item. */
async function walkDir(
  filters: Filters,
  hostDir: string,
  rootRel: string,
  itemRel: string,
  info: WalkInfo,
  out: SelectedEntry[],
): Promise<void> {
  for (const name of sortedNames(hostDir)) {
    const hostPath = path.join(hostDir, name);
    const stat = lstatOrNull(hostPath);
    if (stat === null) continue;
    const childRoot = joinRel(rootRel, name);
    const childItem = joinRel(itemRel, name);
    const ig = filters.ignore?.matchInWalk(childRoot, info.ignore) ?? { excluded: false, info: [] };
    const ex = filters.exclude?.matchInWalk(childItem, info.exclude) ?? { excluded: false, info: [] };
    const inc = filters.include?.matchInWalk(childItem, info.include) ?? { excluded: true, info: [] };
    const childInfo: WalkInfo = { ignore: ig.info, exclude: ex.info, include: inc.info };
    const hidden = ig.excluded || ex.excluded || !inc.excluded;
    const entry: SelectedEntry = { rel: childItem, hostPath, stat };
    if (!hidden) {
      out.push(entry);
      if (stat.isDirectory()) await walkDir(filters, hostPath, childRoot, childItem, childInfo, out);
      continue;
    }
    if (!stat.isDirectory() || !mustWalkHidden(filters, ig.excluded, ex.excluded, inc.excluded, childRoot, childItem)) continue;
    // A hidden dir still appears when something inside it is visible (fsutil emits such parents lazily).
    const inner: SelectedEntry[] = [];
    await walkDir(filters, hostPath, childRoot, childItem, childInfo, inner);
    if (inner.length > 0) out.push(entry, ...inner);
  }
}

function mustWalkHidden(
  filters: Filters,
  ignored: boolean,
  excluded: boolean,
  included: boolean,
  rootRel: string,
  itemRel: string,
): boolean {
  if (ignored && !(filters.ignore as ExcludeMatcher).mustWalkExcludedDir(rootRel)) return false;
  if (excluded && !(filters.exclude as ExcludeMatcher).mustWalkExcludedDir(itemRel)) return false;
  if (filters.include !== null && !included) return filters.include.patterns.some((p) => includeCouldMatchInside(p.cleaned, itemRel));
  return true;
}

/** An include pattern with no wildcard can only match below dirs on its own path (fsutil's onlyPrefixIncludes pruning). */
function includeCouldMatchInside(pattern: string, dirRel: string): boolean {
  if (/[*[\]?^\\]/.test(pattern)) return true;
  return `${pattern}/`.startsWith(`${dirRel}/`);
}

/** The .dockerignore state of a path found without a walk: its info for children, whether it is hidden, whether a walk would even reach it. */
function ignoreStateOf(ignore: ExcludeMatcher | null, rel: string): { excluded: boolean; reachable: boolean; info: ParentMatchInfo } {
  if (ignore === null || rel === '') return { excluded: false, reachable: true, info: [] };
  const parts = rel.split('/');
  let info: ParentMatchInfo = [];
  for (let i = 0; i < parts.length; i += 1) {
    const prefix = parts.slice(0, i + 1).join('/');
    const r = ignore.matchInWalk(prefix, info);
    info = r.info;
    if (i === parts.length - 1) return { excluded: r.excluded, reachable: true, info };
    if (r.excluded && !ignore.mustWalkExcludedDir(prefix)) return { excluded: true, reachable: false, info };
  }
  return { excluded: false, reachable: true, info };
}

/** Builds the item for one found path, or null when .dockerignore / --exclude hide it. */
async function itemAt(
  opts: SelectOptions,
  filters: Filters,
  source: string,
  matchedPath: string,
  hostPath: string,
  stat: BigIntStats,
  topExcluded: boolean,
): Promise<SelectedItem | null> {
  const relPath = containerPathOf(opts.root, hostPath).slice(1);
  const state = ignoreStateOf(filters.ignore, relPath);
  if (!state.reachable || topExcluded) return null;
  const entries: SelectedEntry[] = [];
  if (stat.isDirectory()) {
    await walkDir(filters, hostPath, relPath, '', { ignore: state.info, exclude: [], include: [] }, entries);
  }
  if (state.excluded && entries.length === 0) return null;
  return { source, matchedPath, relPath, hostPath, stat, entries };
}

async function selectLiteral(opts: SelectOptions, filters: Filters, source: string, cleaned: string): Promise<SelectedItem[]> {
  const hostPath = await resolveInRoot(opts.root, cleaned, { followFinal: opts.followTopSymlinks });
  const stat = lstatOrNull(hostPath);
  if (stat === null) return [];
  const topExcluded = filters.exclude?.isExcluded(cleaned) ?? false;
  const item = await itemAt(opts, filters, source, cleaned, hostPath, stat, topExcluded && cleaned !== '.');
  return item === null ? [] : [item];
}

/** fsutil's ResolveWildcards: resolve the literal prefix, then walk it matching the rest, not entering matched dirs. */
async function selectWildcard(opts: SelectOptions, filters: Filters, source: string, cleaned: string): Promise<SelectedItem[]> {
  const parts = cleaned.split('/');
  const firstWild = parts.findIndex(hasWildcards);
  const base = parts.slice(0, firstWild).join('/');
  const pattern = new SourcePattern(parts.slice(firstWild).join('/'));
  const baseHost = await resolveInRoot(opts.root, base === '' ? '/' : base);
  const baseStat = lstatOrNull(baseHost);
  if (baseStat === null || !baseStat.isDirectory()) return [];
  const items: SelectedItem[] = [];
  const visit = async (hostDir: string, rel: string): Promise<void> => {
    for (const name of sortedNames(hostDir)) {
      const childRel = joinRel(rel, name);
      const childHost = path.join(hostDir, name);
      const lst = lstatOrNull(childHost);
      if (lst === null) continue;
      if (pattern.matches(childRel)) {
        const rootRel = containerPathOf(opts.root, childHost).slice(1);
        const target = opts.followTopSymlinks && lst.isSymbolicLink() ? await resolveInRoot(opts.root, rootRel) : childHost;
        const st = target === childHost ? lst : lstatOrNull(target);
        if (st === null) continue;
        const topExcluded = filters.exclude?.isExcluded(rootRel) ?? false;
        const item = await itemAt(opts, filters, source, rootRel, target, st, topExcluded);
        if (item !== null) items.push(item);
      } else if (lst.isDirectory() && pattern.couldMatchInside(childRel)) {
        await visit(childHost, childRel);
      }
    }
  };
  await visit(baseHost, '');
  return items;
}

/** --parents: the pivot dir is the item; the rest of the source is an include pattern below it. */
async function selectParents(opts: SelectOptions, filters: Filters, source: string): Promise<SelectedItem[]> {
  const pivotAt = source.indexOf('/./');
  const pivot = pivotAt < 0 ? '.' : cleanPath(source.slice(0, pivotAt));
  const pattern = cleanPath(`/${pivotAt < 0 ? source : source.slice(pivotAt + 3)}`).slice(1);
  const pivotHost = await resolveInRoot(opts.root, pivot);
  const stat = lstatOrNull(pivotHost);
  if (stat === null || !stat.isDirectory()) return [];
  const withInclude: Filters = { ...filters, include: pattern === '' ? null : new ExcludeMatcher([pattern]) };
  const relPath = containerPathOf(opts.root, pivotHost).slice(1);
  const state = ignoreStateOf(filters.ignore, relPath);
  if (!state.reachable) return [];
  const entries: SelectedEntry[] = [];
  await walkDir(withInclude, pivotHost, relPath, '', { ...NO_INFO, ignore: state.info }, entries);
  if (entries.length === 0) return [];
  return [{ source, matchedPath: relPath, relPath, hostPath: pivotHost, stat, entries }];
}

/**
 * Expands the sources of one COPY against a source root. Every source must select something
 * (else CopySourceNotFoundError naming it). Paths never leave root: ".." and symlinks resolve inside it.
 */
export async function selectSources(opts: SelectOptions): Promise<SelectedItem[]> {
  const filters: Filters = { ignore: matcherOrNull(opts.ignore), exclude: matcherOrNull(opts.exclude), include: null };
  const items: SelectedItem[] = [];
  for (const source of opts.src) {
    const cleaned = cleanPath(`/${source}`).slice(1) || '.';
    const wildcard = cleaned.split('/').some(hasWildcards);
    let found: SelectedItem[];
    if (opts.parents) found = await selectParents(opts, filters, source);
    else if (wildcard) found = await selectWildcard(opts, filters, source, cleaned);
    else found = await selectLiteral(opts, filters, source, cleaned);
    if (found.length === 0 && !(await allExcludedByFlag(opts, filters, cleaned, wildcard))) {
      throw new CopySourceNotFoundError(source, wildcard || opts.parents);
    }
    items.push(...found);
  }
  return items;
}

/** A source that exists but was dropped only by --exclude copies nothing without an error (BuildKit allows empty results). */
async function allExcludedByFlag(opts: SelectOptions, filters: Filters, cleaned: string, wildcard: boolean): Promise<boolean> {
  if (filters.exclude === null || opts.parents) return false;
  const withoutExclude: SelectOptions = { ...opts, exclude: [] };
  const plain: Filters = { ...filters, exclude: null };
  const found = wildcard
    ? await selectWildcard(withoutExclude, plain, cleaned, cleaned)
    : await selectLiteral(withoutExclude, plain, cleaned, cleaned);
  return found.length > 0;
}
