// A KILN_ROOT's stores opened directly in a temp dir (openKilnRoot also sets up exec state these tests never touch).
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCacheStore } from '../../src/cache/file-cache-store.js';
import { FileContentStore } from '../../src/content/file-content-store.js';
import { FileImageStore } from '../../src/content/file-image-store.js';
import type { KilnRoot } from '../../src/engine/kiln-root.js';
import { OverlaySnapshotter } from '../../src/snapshot/overlay-snapshotter.js';

export async function makeStoreRoot(prefix = 'kiln-test-stores-'): Promise<KilnRoot> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const content = new FileContentStore(join(dir, 'content'));
  const root: KilnRoot = {
    root: dir,
    content,
    images: new FileImageStore(join(dir, 'images')),
    snapshots: new OverlaySnapshotter(join(dir, 'snapshots'), content),
    cache: new FileCacheStore(join(dir, 'cache')),
    execStateDir: join(dir, 'exec'),
    cacheMountsDir: join(dir, 'mounts'),
    statCachePath: join(dir, 'context-stat-cache.bin'),
  };
  await Promise.all([content.init(), root.images.init(), root.snapshots.init(), root.cache.init(), mkdir(root.cacheMountsDir)]);
  return root;
}
