// readdir for a directory that may not exist (yet, or any more): its names, or none.
import { readdir } from 'node:fs/promises';

export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
