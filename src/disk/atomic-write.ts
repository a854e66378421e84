// The one way kiln writes a file that must survive a crash: temp file, fsync, rename, fsync the directory.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { readdirOrEmpty } from './readdir-or-empty.js';
import { basename, dirname, join } from 'node:path';
import { processAlive } from './process-alive.js';

/** A unique temporary path beside `target`, on the same filesystem so the final rename is atomic. */
export function tempPathBeside(target: string): string {
  return join(dirname(target), `.tmp-${basename(target)}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** tempPathBeside's names; the pid is the writer's. */
const TEMP_NAME = /^\.tmp-.+-(\d+)-[0-9a-f]{8}$/;

/**
 * Removes the temporary files that writers killed before their rename left in `dir` (a crashed or kill -9'd kiln);
 * those of live writers stay. A missing directory has none.
 */
export async function removeStaleTemps(dir: string): Promise<void> {
  for (const name of await readdirOrEmpty(dir)) {
    const writer = TEMP_NAME.exec(name)?.[1];
    if (writer !== undefined && !processAlive(Number(writer))) await rm(join(dir, name), { force: true });
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a written file to disk (before it is renamed into place). */
export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `target` with `data` atomically: readers see the old or the new file, never a partial one. */
export async function writeFileAtomic(target: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const temp = tempPathBeside(target);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(dirname(target));
}
