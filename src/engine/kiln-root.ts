// Opens KILN_ROOT: the stores every command works on, with a crashed run's leftovers cleaned first.
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FileCacheStore } from '../cache/file-cache-store.js';
import { removeStaleTemps } from '../disk/atomic-write.js';
import { FileContentStore } from '../content/file-content-store.js';
import { FileImageStore } from '../content/file-image-store.js';
import { cleanupStaleExecState } from '../exec/index.js';
import { OverlaySnapshotter } from '../snapshot/overlay-snapshotter.js';
import { cleanupStaleSecrets, secretsDirFor } from './secrets.js';

export interface KilnRoot {
  readonly root: string;
  readonly content: FileContentStore;
  readonly images: FileImageStore;
  readonly snapshots: OverlaySnapshotter;
  readonly cache: FileCacheStore;
  readonly execStateDir: string;
  /** Persistent RUN --mount=type=cache directories. */
  readonly cacheMountsDir: string;
  /** The context stat cache (skips rehashing unchanged files). */
  readonly statCachePath: string;
}

/** KILN_ROOT, or /var/lib/kiln for root, or $XDG_DATA_HOME/kiln otherwise. */
export function defaultKilnRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KILN_ROOT) return env.KILN_ROOT;
  if (process.getuid?.() === 0) return '/var/lib/kiln';
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'kiln');
}

export async function openKilnRoot(root: string): Promise<KilnRoot> {
  const content = new FileContentStore(join(root, 'content'));
  const images = new FileImageStore(join(root, 'images'));
  const snapshots = new OverlaySnapshotter(join(root, 'snapshots'), content);
  const cache = new FileCacheStore(join(root, 'cache'));
  const execStateDir = join(root, 'exec');
  const cacheMountsDir = join(root, 'mounts');
  await Promise.all([content.init(), images.init(), snapshots.init(), cache.init(), mkdir(execStateDir, { recursive: true }), mkdir(cacheMountsDir, { recursive: true })]);
  // Files whose writer was killed before its rename (cache records, the image index, leases, build records, the stat
  // cache): removed while the command goes on, since a large cache dir takes ~10 ms to list and nothing reads them.
  for (const dir of [root, cache.root, images.root, join(root, 'leases'), join(root, 'builds')]) {
    removeStaleTemps(dir).catch((error: unknown) => {
      process.stderr.write(`kiln: warning: could not remove stale temporary files in ${dir}: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  }
  await snapshots.cleanupStale();
  await cleanupStaleExecState(execStateDir);
  await cleanupStaleSecrets(secretsDirFor(execStateDir));
  return { root, content, images, snapshots, cache, execStateDir, cacheMountsDir, statCachePath: join(root, 'context-stat-cache.bin') };
}
