// lstat for a path that may be missing: the stat, or null when nothing is there (ENOENT, or a parent not a directory).
import { lstatSync, type Stats } from 'node:fs';

export function lstatOrNull(hostPath: string): Stats | null {
  try {
    return lstatSync(hostPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}
