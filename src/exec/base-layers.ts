// The two read-only helper layers every step shares: the stub layer of mount targets and an empty layer.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

export interface BaseLayers {
  /** etc/{hosts,resolv.conf,hostname}, proc/, dev/, sys/: the bottom lower of every rootfs, so bind targets exist without being written to the upper dir. */
  readonly stubDir: string;
  readonly emptyDir: string;
}

/** Bump when the stub layer's content changes, so an old one is never reused. */
const BASE_NAME = 'base-v1';

const pending = new Map<string, Promise<BaseLayers>>();

export function ensureBaseLayers(stateDir: string): Promise<BaseLayers> {
  let p = pending.get(stateDir);
  if (p === undefined) {
    p = createBaseLayers(stateDir);
    pending.set(stateDir, p);
    p.catch(() => pending.delete(stateDir));
  }
  return p;
}

async function createBaseLayers(stateDir: string): Promise<BaseLayers> {
  const final = path.join(stateDir, BASE_NAME);
  const layers = { stubDir: path.join(final, 'stub'), emptyDir: path.join(final, 'empty') };
  // Built aside and renamed into place, so a concurrent or crashed builder never sees a half-made stub.
  const tmp = path.join(stateDir, `${BASE_NAME}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(path.join(tmp, 'stub', 'etc'), { recursive: true, mode: 0o755 });
  for (const d of ['proc', 'dev', 'sys']) await mkdir(path.join(tmp, 'stub', d), { mode: 0o755 });
  for (const f of ['hosts', 'resolv.conf', 'hostname']) await writeFile(path.join(tmp, 'stub', 'etc', f), '', { mode: 0o644 });
  await mkdir(path.join(tmp, 'empty'), { mode: 0o755 });
  try {
    await rename(tmp, final);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    // Another builder won the race; its layers are identical.
    await rm(tmp, { recursive: true, force: true });
  }
  return layers;
}
