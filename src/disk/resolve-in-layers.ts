// Resolves a container path against an image's layer directories (overlay lower form, top first), following the
// image's symlinks as the merged view would, without mounting it and without ever leaving the image.
import { readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { lgetxattr } from '../sys/index.js';
import { lstatOrNull } from './lstat-or-null.js';
import { resolveComponentsSync, type ResolveInRootOptions } from './resolve-in-root.js';

const OPAQUE_XATTR = 'trusted.overlay.opaque';

/** A whiteout in overlay lower form: a character device 0:0. */
function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/**
 * What the merged view holds at `components`: the host path of the entry that wins (the topmost layer's), or null
 * when it is missing. A directory's content comes from every layer down to the first one where the directory is
 * opaque or is not a directory, so each component narrows the layers that can supply the next one.
 */
function mergedEntry(layers: readonly string[], components: readonly string[]): { hostPath: string; stat: Stats } | null {
  let visible = layers;
  for (let depth = 1; depth <= components.length; depth++) {
    const rel = components.slice(0, depth);
    const below: string[] = [];
    let winner: { hostPath: string; stat: Stats } | null = null;
    for (const layer of visible) {
      const hostPath = path.join(layer, ...rel);
      const st = lstatOrNull(hostPath);
      if (st === null) continue;
      if (isWhiteout(st)) break;
      winner ??= { hostPath, stat: st };
      if (!st.isDirectory()) break;
      below.push(layer);
      if (lgetxattr(hostPath, OPAQUE_XATTR)?.toString() === 'y') break;
    }
    if (winner === null) return null;
    if (depth === components.length) return winner;
    if (!winner.stat.isDirectory()) return null;
    visible = below;
  }
  return null;
}

/**
 * Resolves `p` inside the image made of `layers` (top first), as resolveInRootSync does inside one directory:
 * absolute symlink targets and ".." stay inside the image. Returns the resolved container path ("/a/b").
 */
export function resolveInLayersSync(layers: readonly string[], p: string, opts: ResolveInRootOptions = {}): string {
  const components = resolveComponentsSync('the image', p, opts, (at) => {
    const entry = mergedEntry(layers, at);
    return entry !== null && entry.stat.isSymbolicLink() ? readlinkSync(entry.hostPath) : null;
  });
  return `/${components.join('/')}`;
}
