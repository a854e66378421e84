// Container names: --name, or one made up as docker does; a running container's name is taken until it exits (kiln keeps no
// stopped containers).
import { randomInt } from 'node:crypto';
import { mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../disk/process-alive.js';
import { KilnError, UsageError } from '../errors.js';

// Kiln's own words (a kiln's and a potter's), for names like docker's "adjective_noun".
const ADJECTIVES = [
  'amber', 'bold', 'brisk', 'calm', 'clever', 'crisp', 'dusty', 'eager', 'fierce', 'gentle', 'glowing', 'hardy',
  'humble', 'keen', 'lucid', 'mellow', 'nimble', 'patient', 'quiet', 'rustic', 'smoky', 'steady', 'sturdy', 'warm',
];
const NOUNS = [
  'anvil', 'bisque', 'brick', 'cinder', 'clay', 'crucible', 'ember', 'flame', 'flue', 'furnace', 'glaze', 'hearth',
  'ingot', 'kettle', 'ladle', 'oven', 'porcelain', 'potter', 'saggar', 'slip', 'spark', 'stoneware', 'tile', 'vessel',
];

function madeUpName(withNumber: boolean): string {
  const name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NOUNS[randomInt(NOUNS.length)]}`;
  return withNumber ? `${name}${randomInt(10)}` : name;
}

/** A made-up name for a container run without --name, claimed like one given (a taken one is drawn again). */
export async function claimMadeUpName(dir: string): Promise<{ name: string; release: () => Promise<void> }> {
  for (let attempt = 0; ; attempt++) {
    const name = madeUpName(attempt >= 10);
    try {
      return { name, release: await claimContainerName(dir, name) };
    } catch (error) {
      if (!(error instanceof NameInUseError) || attempt >= 50) throw error;
    }
  }
}

/** The name belongs to a running container. */
export class NameInUseError extends KilnError {}

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
      if (owner > 0 && processAlive(owner)) throw new NameInUseError(`the container name "${name}" is already in use by a running container (kiln pid ${owner})`);
      await rm(path, { force: true });
    }
  }
  throw new KilnError(`could not claim the container name "${name}"`);
}

/** Frees the names that crashed runs still hold: a claim whose kiln is gone (or, empty, older than a minute). */
export async function sweepStaleNameClaims(dir: string): Promise<void> {
  for (const file of await readdir(dir).catch(() => [])) {
    if (!file.endsWith('.pid')) continue;
    const path = join(dir, file);
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    // A claim is created empty and gets its pid a moment later: an empty one is only stale once it is old.
    const stale = owner > 0 ? !processAlive(owner) : await olderThanAMinute(path);
    if (stale) await rm(path, { force: true });
  }
}

async function olderThanAMinute(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > 60_000;
}
