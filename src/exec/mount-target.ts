// Finds (or creates) a mount point inside the container root without ever following an image symlink out of it.
import { closeSync, lstatSync, mkdirSync, openSync } from 'node:fs';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { resolveInRootSync } from '../disk/resolve-in-root.js';
import { ContainerStartError } from './errors.js';

/**
 * Resolves `containerPath` in `root` (symlinks clamped to root, like openat2 RESOLVE_IN_ROOT) and makes sure
 * a directory or an empty file exists there. The result has no symlink left in it below `root`, so mount(2)
 * on it cannot land on the host. Nothing from the image runs yet, so the check cannot be raced.
 */
export function ensureMountTarget(root: string, containerPath: string, kind: 'dir' | 'file'): string {
  const hostPath = resolveInRootSync(root, containerPath);
  const existing = lstatOrNull(hostPath);
  if (existing === null) {
    if (kind === 'dir') {
      mkdirSync(hostPath, { recursive: true, mode: 0o755 });
    } else {
      mkdirSync(path.dirname(hostPath), { recursive: true, mode: 0o755 });
      closeSync(openSync(hostPath, 'a', 0o644));
    }
    return hostPath;
  }
  if (kind === 'dir' && !existing.isDirectory()) {
    throw new ContainerStartError(`cannot mount on ${containerPath}: it exists in the image and is not a directory`, 125);
  }
  if (kind === 'file' && existing.isDirectory()) {
    throw new ContainerStartError(`cannot mount a file on ${containerPath}: it is a directory in the image`, 125);
  }
  return hostPath;
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
