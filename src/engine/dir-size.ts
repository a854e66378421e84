// Bytes held by a directory tree: regular files and symlinks by their size, each hard-linked inode once.
import { lstat } from 'node:fs/promises';
import { readdirOrEmpty } from '../disk/readdir-or-empty.js';
import { join } from 'node:path';

/** Apparent size, like the sizes buildx reports; `seen` dedupes hard links across calls (snapshots share none today). */
export async function dirSize(path: string, seen: Set<string> = new Set()): Promise<number> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    // Removed while we walked (a concurrent prune or build cleanup): it holds nothing any more.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  if (stats.isDirectory()) {
    // Removed while we walked: readdirOrEmpty's no names add up to 0.
    let total = 0;
    for (const name of await readdirOrEmpty(path)) total += await dirSize(join(path, name), seen);
    return total;
  }
  if (!stats.isFile() && !stats.isSymbolicLink()) return 0;
  const inode = `${stats.dev}:${stats.ino}`;
  if (stats.nlink > 1) {
    if (seen.has(inode)) return 0;
    seen.add(inode);
  }
  return stats.size;
}
