// A lock file between kiln processes (pid inside; a dead owner's lock is taken over), for read-modify-write files.
import { open, readFile, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { KilnError } from '../errors.js';
import { processAlive } from './process-alive.js';

async function acquire(lockPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
    // A lock whose owner died (kill -9) would block every later command; an empty one is being written right now.
    if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new KilnError(`timed out waiting for ${lockPath} (held by pid ${owner || 'unknown'})`);
    await sleep(10);
  }
}

/** Takes the lock now or returns undefined if a live process holds it. */
export async function tryFileLock(lockPath: string): Promise<(() => Promise<void>) | undefined> {
  try {
    await acquire(lockPath, 0);
  } catch (error) {
    if (error instanceof KilnError) return undefined;
    throw error;
  }
  return () => rm(lockPath, { force: true });
}

/** Waits for the lock; the returned function releases it. */
export async function takeFileLock(lockPath: string, timeoutMs: number): Promise<() => Promise<void>> {
  await acquire(lockPath, timeoutMs);
  return () => rm(lockPath, { force: true });
}

export async function withFileLock<T>(lockPath: string, work: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  await acquire(lockPath, timeoutMs);
  try {
    return await work();
  } finally {
    await rm(lockPath, { force: true });
  }
}
