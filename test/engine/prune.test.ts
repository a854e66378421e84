// kiln prune and du on a real KILN_ROOT layout: what is kept, what goes, and that the numbers add up.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CacheRecord, CachedLayer } from '../../src/cache/types.js';
import { acquireBuildLease, acquirePruneLock } from '../../src/engine/build-lease.js';
import { measureDiskUsage } from '../../src/engine/disk-usage.js';
import type { KilnRoot } from '../../src/engine/kiln-root.js';
import { pruneKilnRoot } from '../../src/engine/prune.js';
import { chainOf, recordOf, storeTestLayer, tagTestImage } from '../helpers/layer-blobs.js';
import { makeStoreRoot } from '../helpers/store-root.js';

let root: KilnRoot;

/** A layer with `bytes` of incompressible content, unpacked as a committed snapshot on top of `parent`. */
async function layerOn(parent: readonly CachedLayer[], bytes = 2000): Promise<CachedLayer[]> {
  const layer = await storeTestLayer(root.content, { [`f-${randomBytes(4).toString('hex')}`]: randomBytes(bytes).toString('base64') });
  const chain = chainOf([...parent, layer]);
  await root.snapshots.lowerDirsOf(chain);
  return chain;
}

async function putRecord(chain: readonly CachedLayer[], opts: { createdAt?: Date; name?: string } = {}): Promise<CacheRecord> {
  const record = recordOf(chain, opts);
  await root.cache.put(record);
  return record;
}

async function blobsOnDisk(): Promise<Set<string>> {
  return new Set(await root.content.list());
}

async function snapshotsOnDisk(): Promise<Set<string>> {
  return new Set(await root.snapshots.list());
}

async function recordKeys(): Promise<string[]> {
  return (await root.cache.list()).map((record) => record.key).sort();
}

beforeEach(async () => {
  root = await makeStoreRoot('kiln-test-prune-');
});

afterEach(async () => {
  await rm(root.root, { recursive: true, force: true });
});

describe('kiln prune', () => {
  it("keeps a tagged image's manifest, config, layers and snapshots, and removes what nothing holds", async () => {
    const base = await layerOn([]);
    const app = await layerOn(base);
    const image = await tagTestImage(root.content, root.images, 'app:latest', app);
    await putRecord(app, { name: 'RUN build app' });
    const dangling = await layerOn(base);
    const danglingRecord = await putRecord(dangling, { name: 'RUN an abandoned step' });
    const orphan = await layerOn([]);

    const report = await pruneKilnRoot(root, {});
    expect(report.removedRecords.map((record) => record.key)).toEqual([danglingRecord.key]);
    const blobs = await blobsOnDisk();
    for (const digest of [image.manifest.digest, image.config.digest, base[0]!.blob.digest, app[1]!.blob.digest]) expect(blobs.has(digest)).toBe(true);
    expect(blobs.has(dangling[1]!.blob.digest)).toBe(false);
    expect(blobs.has(orphan[0]!.blob.digest)).toBe(false);
    expect([...(await snapshotsOnDisk())].sort()).toEqual([base[0]!.chainId, app[1]!.chainId].sort());
    expect(report.removedBlobs).toBe(2);
    expect(report.removedSnapshots).toBe(2);
    expect(report.reclaimedBytes).toBeGreaterThan(4000);
  });

  it('keeps records of tagged images unless --all, and --all still keeps the image and empties cache mounts', async () => {
    const app = await layerOn(await layerOn([]));
    await tagTestImage(root.content, root.images, 'app', app);
    const appRecord = await putRecord(app);
    await mkdir(join(root.cacheMountsDir, 'go-build'));
    await writeFile(join(root.cacheMountsDir, 'go-build', 'obj'), 'x'.repeat(5000));

    expect((await pruneKilnRoot(root, {})).removedRecords).toEqual([]);
    expect(await recordKeys()).toEqual([appRecord.key]);
    expect(await readdir(root.cacheMountsDir)).toEqual(['go-build']);

    const report = await pruneKilnRoot(root, { all: true });
    expect(report.removedRecords.map((record) => record.key)).toEqual([appRecord.key]);
    expect(report.removedMounts).toBe(1);
    expect(report.removedBlobs).toBe(0);
    expect(await readdir(root.cacheMountsDir)).toEqual([]);
    expect((await snapshotsOnDisk()).size).toBe(2);
  });

  it('keeps removing the oldest records only until the cache holds at most --keep-storage', async () => {
    const day = 24 * 3600e3;
    const chains = [await layerOn([], 30_000), await layerOn([], 30_000), await layerOn([], 30_000), await layerOn([], 30_000)];
    const records: CacheRecord[] = [];
    for (const [i, chain] of chains.entries()) records.push(await putRecord(chain, { createdAt: new Date(Date.now() - (10 - i) * day) }));
    const before = await measureDiskUsage(root);
    const held = (category: string): number => before.lines.find((line) => line.category === category)!.bytes;
    const perRecord = (held('blobs-cache') + held('snapshots-cache') + held('cache-records')) / 4;

    // Room for two and a half records: the two oldest go.
    const report = await pruneKilnRoot(root, { keepStorage: Math.floor(perRecord * 2.5) });
    expect(report.removedRecords.map((record) => record.key)).toEqual([records[0]!.key, records[1]!.key]);
    expect(await recordKeys()).toEqual([records[2]!.key, records[3]!.key].sort());
    const after = await measureDiskUsage(root);
    expect(after.totalBytes).toBeLessThanOrEqual(Math.floor(perRecord * 2.5));
    expect((await blobsOnDisk()).has(chains[1]![0]!.blob.digest)).toBe(false);
    expect((await blobsOnDisk()).has(chains[2]![0]!.blob.digest)).toBe(true);

    // Already under budget: nothing more goes.
    expect((await pruneKilnRoot(root, { keepStorage: Math.floor(perRecord * 2.5) })).removedRecords).toEqual([]);
  });

  it('--filter until removes only records older than the duration', async () => {
    const old = await putRecord(await layerOn([]), { createdAt: new Date(Date.now() - 48 * 3600e3) });
    const recent = await putRecord(await layerOn([]), { createdAt: new Date(Date.now() - 3600e3) });
    const report = await pruneKilnRoot(root, { olderThanMs: 24 * 3600e3 });
    expect(report.removedRecords.map((record) => record.key)).toEqual([old.key]);
    expect(await recordKeys()).toEqual([recent.key]);
    expect((await blobsOnDisk()).has(old.layers[0]!.blob.digest)).toBe(false);
    expect((await blobsOnDisk()).has(recent.layers[0]!.blob.digest)).toBe(true);
  });

  it('--filter until and --keep-storage go by last use: a cache hit keeps an old record, as in BuildKit', async () => {
    const day = 24 * 3600e3;
    const oldButUsed = await putRecord(await layerOn([]), { createdAt: new Date(Date.now() - 10 * day) });
    const oldUnused = await putRecord(await layerOn([]), { createdAt: new Date(Date.now() - 9 * day) });
    await root.cache.touch(oldButUsed.key);
    const listed = new Map((await root.cache.list()).map((record) => [record.key, record]));
    expect(Date.parse(listed.get(oldButUsed.key)!.lastUsedAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect(listed.get(oldUnused.key)!.lastUsedAt).toBe(oldUnused.createdAt);
    const report = await pruneKilnRoot(root, { olderThanMs: day });
    expect(report.removedRecords.map((record) => record.key)).toEqual([oldUnused.key]);
    expect(await recordKeys()).toEqual([oldButUsed.key]);
  });

  it("a running build's lease keeps every blob and snapshot; once released, the next prune reclaims them", async () => {
    const chain = await layerOn([]);
    await putRecord(chain);
    const lease = await acquireBuildLease(root.root);
    try {
      const report = await pruneKilnRoot(root, { all: true });
      expect(report.removedRecords).toHaveLength(1);
      expect(report.runningBuilds.map((info) => info.pid)).toEqual([process.pid]);
      expect(report.removedBlobs + report.removedSnapshots).toBe(0);
      expect((await blobsOnDisk()).has(chain[0]!.blob.digest)).toBe(true);
      expect((await snapshotsOnDisk()).has(chain[0]!.chainId)).toBe(true);
    } finally {
      await lease.release();
    }
    const report = await pruneKilnRoot(root, { all: true });
    expect(report.runningBuilds).toEqual([]);
    expect(report.removedBlobs).toBe(1);
    expect(await snapshotsOnDisk()).toEqual(new Set());
  });

  it('a lease left by a process that has exited protects nothing', async () => {
    const chain = await layerOn([]);
    const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const deadPid = Number(child.stdout.trim());
    await mkdir(join(root.root, 'leases'), { recursive: true });
    await writeFile(join(root.root, 'leases', `build-${deadPid}-stale.json`), JSON.stringify({ kind: 'build', pid: deadPid, startedAt: Date.now() }));
    const report = await pruneKilnRoot(root, {});
    expect(report.runningBuilds).toEqual([]);
    expect((await blobsOnDisk()).has(chain[0]!.blob.digest)).toBe(false);
    expect(await readdir(join(root.root, 'leases'))).toEqual([]);
  });

  it('a build that starts while prune is sweeping waits for it to finish', async () => {
    const lock = await acquirePruneLock(root.root);
    let acquired = false;
    const waiting = acquireBuildLease(root.root, { pollMs: 10 }).then((lease) => {
      acquired = true;
      return lease;
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(acquired).toBe(false);
    await lock.release();
    const lease = await waiting;
    expect(acquired).toBe(true);
    await lease.release();
    expect(await readdir(join(root.root, 'leases'))).toEqual([]);
  });
});

describe('kiln du', () => {
  it('splits storage by what holds it, and the totals add up to the files on disk', async () => {
    const base = await layerOn([]);
    const app = await layerOn(base);
    const image = await tagTestImage(root.content, root.images, 'app', app);
    await putRecord(app);
    const cacheOnly = await layerOn(base);
    await putRecord(cacheOnly);
    const orphan = await layerOn([]);
    await mkdir(join(root.cacheMountsDir, 'npm'));
    await writeFile(join(root.cacheMountsDir, 'npm', 'pkg'), 'p'.repeat(1234));

    const usage = await measureDiskUsage(root);
    const line = (category: string) => usage.lines.find((entry) => entry.category === category)!;
    const sizeOf = async (digest: string) => (await stat(root.content.pathOf(digest))).size;
    expect(line('blobs-image')).toMatchObject({ count: 4, reclaimable: 0 });
    expect(line('blobs-image').bytes).toBe(
      (await sizeOf(image.manifest.digest)) + (await sizeOf(image.config.digest)) + (await sizeOf(base[0]!.blob.digest)) + (await sizeOf(app[1]!.blob.digest)),
    );
    expect(line('blobs-cache')).toMatchObject({ count: 1, bytes: await sizeOf(cacheOnly[1]!.blob.digest) });
    expect(line('blobs-unreferenced')).toMatchObject({ count: 1, bytes: await sizeOf(orphan[0]!.blob.digest) });
    expect(line('snapshots-image').count).toBe(2);
    expect(line('snapshots-cache').count).toBe(1);
    expect(line('snapshots-unreferenced').count).toBe(1);
    expect(line('cache-records').count).toBe(2);
    expect(line('cache-mounts')).toMatchObject({ count: 1, bytes: 1234, reclaimable: 1234 });

    const allBlobs = await Promise.all((await root.content.list()).map(sizeOf));
    expect(usage.lines.filter((entry) => entry.category.startsWith('blobs-')).reduce((sum, entry) => sum + entry.bytes, 0)).toBe(allBlobs.reduce((a, b) => a + b, 0));
    expect(usage.totalBytes).toBe(usage.lines.reduce((sum, entry) => sum + entry.bytes, 0));
    expect(usage.reclaimableBytes).toBe(usage.lines.reduce((sum, entry) => sum + entry.reclaimable, 0));

    // Reclaimable is exactly what prune --all frees.
    const report = await pruneKilnRoot(root, { all: true });
    expect(report.reclaimedBytes).toBe(usage.reclaimableBytes);
    const after = await measureDiskUsage(root);
    expect(after.reclaimableBytes).toBe(0);
    expect(after.totalBytes).toBe(usage.totalBytes - usage.reclaimableBytes);
  });
});
