// A sub-path of a stack of overlay lower dirs, as lower dirs of its own (RUN --mount=type=bind,from=STAGE,source=DIR).
import { lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { KilnError, NotSupportedError } from '../errors.js';
import { lgetxattr } from '../sys/index.js';

export type SubpathView =
  | { readonly kind: 'dir'; readonly lowerDirs: readonly string[] }
  | { readonly kind: 'file'; readonly path: string };

async function lstatOrUndefined(path: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

function isOpaque(path: string): boolean {
  return lgetxattr(path, 'trusted.overlay.opaque')?.toString() === 'y';
}

/**
 * The layers (top first) that contribute to `source` in the merged view, honouring whiteouts and opaque dirs the
 * way overlayfs does. Symlinks along the path are refused rather than resolved against the host.
 */
export async function subpathOfLayers(lowerDirs: readonly string[], source: string): Promise<SubpathView> {
  const clean = posix.normalize(`/${source}`);
  const parts = clean.split('/').filter((part) => part !== '');
  if (parts.length === 0) return { kind: 'dir', lowerDirs };
  const found: string[] = [];
  for (const layer of lowerDirs) {
    let hiddenBelow = false;
    let present = true;
    for (let depth = 1; depth <= parts.length; depth++) {
      const path = join(layer, ...parts.slice(0, depth));
      const stat = await lstatOrUndefined(path);
      if (!stat) {
        present = false;
        break;
      }
      if (stat.isCharacterDevice() && stat.rdev === 0) {
        present = false;
        hiddenBelow = true;
        break;
      }
      if (stat.isSymbolicLink()) throw new NotSupportedError(`mount source ${clean}: symbolic links in a bind mount source are not supported yet`);
      if (depth < parts.length && !stat.isDirectory()) {
        present = false;
        hiddenBelow = true;
        break;
      }
      if (depth === parts.length && !stat.isDirectory()) {
        // A non-directory under a directory of a higher layer is hidden by it.
        if (found.length === 0) return { kind: 'file', path };
        present = false;
        hiddenBelow = true;
        break;
      }
      if (stat.isDirectory() && isOpaque(path)) hiddenBelow = true;
    }
    if (present) found.push(join(layer, ...parts));
    if (hiddenBelow) break;
  }
  if (found.length === 0) throw new KilnError(`mount source ${clean} does not exist in the source stage`);
  return { kind: 'dir', lowerDirs: found };
}
