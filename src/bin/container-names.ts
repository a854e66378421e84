// --name: a running container's name is taken until it exits (kiln keeps no stopped containers).
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../disk/process-alive.js';
import { KilnError, UsageError } from '../errors.js';

/** Claims `name` for this process; the returned function frees it. */
export async function claimContainerName(dir: string, name: string): Promise<() => Promise<void>> {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new UsageError(`--name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.pid`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (owner > 0 && processAlive(owner)) throw new KilnError(`the container name "${name}" is already in use by a running container (kiln pid ${owner})`);
      await rm(path, { force: true });
    }
  }
  throw new KilnError(`could not claim the container name "${name}"`);
}
