// Finds (or creates) a mount point inside the container root without ever following an image symlink out of it.
import { closeSync, lstatSync, mkdirSync, openSync } from 'node:fs';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { resolveInRootSync } from '../disk/resolve-in-root.js';
import { ContainerStartError } from './errors.js';

export type MountTargetKind = 'dir' | 'file';

/**
 * Resolves `containerPath` in `root` (symlinks clamped to root, like openat2 RESOLVE_IN_ROOT). The result has no
 * symlink left in it below `root`, so mount(2) on it cannot land on the host. `exists` is false when nothing is
 * there yet; an entry of the wrong type is an error. Nothing from the image runs yet, so the check cannot be raced.
 */
export function findMountTarget(root: string, containerPath: string, kind: MountTargetKind): { hostPath: string; exists: boolean } {
  const hostPath = resolveInRootSync(root, containerPath);
  const existing = lstatOrNull(hostPath);
  if (existing === null) return { hostPath, exists: false };
  if (kind === 'dir' && !existing.isDirectory()) {
    throw new ContainerStartError(`cannot mount on ${containerPath}: it exists in the image and is not a directory`, 125);
  }
  if (kind === 'file' && existing.isDirectory()) {
    throw new ContainerStartError(`cannot mount a file on ${containerPath}: it is a directory in the image`, 125);
  }
  return { hostPath, exists: true };
}

/** Creates an empty directory or file (and its missing parents) at a host path. */
export function createMountTarget(hostPath: string, kind: MountTargetKind): void {
  if (kind === 'dir') {
    mkdirSync(hostPath, { recursive: true, mode: 0o755 });
  } else {
    mkdirSync(path.dirname(hostPath), { recursive: true, mode: 0o755 });
    closeSync(openSync(hostPath, 'a', 0o644));
  }
}

/** findMountTarget, creating the target when it is missing; returns its host path. */
export function ensureMountTarget(root: string, containerPath: string, kind: MountTargetKind): string {
  const { hostPath, exists } = findMountTarget(root, containerPath, kind);
  if (!exists) createMountTarget(hostPath, kind);
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
