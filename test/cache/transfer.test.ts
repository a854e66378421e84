// Cache export to an OCI layout and import into a fresh KILN_ROOT, with blobs fetched lazily.
import { randomBytes } from 'node:crypto';
import { readFile, readdir, rm, stat, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportCache, selectRecordsForExport } from '../../src/cache/cache-export.js';
import { CacheNotFoundError, importCache } from '../../src/cache/cache-import.js';
import { CacheImportError } from '../../src/cache/cache-layout.js';
import { CompositeCacheStore } from '../../src/cache/composite-cache-store.js';
import { FileCacheStore } from '../../src/cache/file-cache-store.js';
import type { CacheRecord } from '../../src/cache/types.js';
import { FileContentStore, DigestMismatchError } from '../../src/content/file-content-store.js';
import { LayeredContentStore } from '../../src/content/layered-content-store.js';
import { chainOf, recordOf, storeTestLayer } from '../helpers/layer-blobs.js';

let dir: string;

async function openStores(name: string): Promise<{ content: FileContentStore; cache: FileCacheStore }> {
  const content = new FileContentStore(join(dir, name, 'content'));
  const cache = new FileCacheStore(join(dir, name, 'cache'));
  await content.init();
  await cache.init();
  return { content, cache };
}

/** Three records over a growing chain L1, L1+L2, L1+L2+L3, stored in `exporter`. */
async function threeSteps(content: FileContentStore, cache: FileCacheStore): Promise<CacheRecord[]> {
  const layers = [
    await storeTestLayer(content, { 'etc/one': 'one\n' }),
    await storeTestLayer(content, { 'etc/two': 'two\n'.repeat(1000) }),
    await storeTestLayer(content, { 'etc/three': 'three\n' }),
  ];
  const chain = chainOf(layers);
  const records = [recordOf(chain.slice(0, 1)), recordOf(chain.slice(0, 2)), recordOf(chain)];
  for (const record of records) await cache.put(record);
  return records;
}

/** What the solver does on a lookup: a record, and every layer blob present. */
async function solverHit(cache: CompositeCacheStore, content: LayeredContentStore, key: string): Promise<CacheRecord | undefined> {
  const record = await cache.get(key);
  if (!record) return undefined;
  for (const layer of record.layers) if (!(await content.has(layer.blob.digest))) return undefined;
  return record;
}

/** Asserts the layout at `dest` is complete: index.json parses and every blob it reaches exists. */
async function expectValidLayout(dest: string): Promise<void> {
  const index = JSON.parse(await readFile(join(dest, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  expect(index.manifests).toHaveLength(1);
  const imported = await importCache(dest);
  for (const record of imported.records.values()) {
    for (const layer of record.layers) await stat(join(imported.blobDir, layer.blob.digest.slice(7)));
  }
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-test-transfer-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cache export and import', () => {
  it('a fresh root importing an export gets the same hits as the exporter', async () => {
    const a = await openStores('a');
    const records = await threeSteps(a.content, a.cache);
    const dest = join(dir, 'export');
    const summary = await exportCache({ content: a.content, records: await a.cache.list(), dest });
    expect(summary.records).toBe(3);
    expect(summary.skipped).toEqual([]);
    expect(JSON.parse(await readFile(join(dest, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });

    const b = await openStores('b');
    const imported = await importCache(dest);
    const cache = new CompositeCacheStore(b.cache, [imported.records]);
    const content = new LayeredContentStore(b.content, [imported.blobDir]);
    for (const record of records) expect(await solverHit(cache, content, record.key)).toEqual(record);
    expect(await solverHit(cache, content, recordOf([]).key)).toBeUndefined();
    // Looking records up copies nothing.
    expect(await b.content.list()).toEqual([]);
  });

  it('index.json names the cache manifest "latest", whose config lists the records and whose layers are the blobs', async () => {
    const a = await openStores('a');
    const records = await threeSteps(a.content, a.cache);
    const dest = join(dir, 'export');
    await exportCache({ content: a.content, records, dest });
    const index = JSON.parse(await readFile(join(dest, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(index.manifests[0]!.annotations['org.opencontainers.image.ref.name']).toBe('latest');
    const manifest = JSON.parse(await readFile(join(dest, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as {
      config: { mediaType: string; digest: string };
      layers: { digest: string }[];
    };
    expect(manifest.config.mediaType).toBe('application/vnd.kiln.cache.config.v1+json');
    expect(manifest.layers.map((layer) => layer.digest)).toEqual(records[2]!.layers.map((layer) => layer.blob.digest));
    const config = JSON.parse(await readFile(join(dest, 'blobs', 'sha256', manifest.config.digest.slice(7)), 'utf8')) as { records: CacheRecord[] };
    expect(config.records.map((record) => record.key).sort()).toEqual(records.map((record) => record.key).sort());
  });

  it('blobs are copied into the local store only when read, and verified', async () => {
    const a = await openStores('a');
    const records = await threeSteps(a.content, a.cache);
    const dest = join(dir, 'export');
    await exportCache({ content: a.content, records, dest });
    const b = await openStores('b');
    const imported = await importCache(dest);
    const content = new LayeredContentStore(b.content, [imported.blobDir]);
    const [l1, l2, l3] = records[2]!.layers;

    const chunks: Buffer[] = [];
    for await (const chunk of content.read(l2!.blob.digest)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toEqual(await a.content.readBytes(l2!.blob.digest));
    expect(await b.content.list()).toEqual([l2!.blob.digest]);

    await content.ensureLocal(l3!.blob.digest);
    expect((await b.content.list()).sort()).toEqual([l2!.blob.digest, l3!.blob.digest].sort());
    expect(await b.content.has(l1!.blob.digest)).toBe(false);
    expect(content.fetched()).toEqual([l2!.blob.digest, l3!.blob.digest]);

    // A corrupt imported blob never lands in the local store.
    await writeFile(join(imported.blobDir, l1!.blob.digest.slice(7)), 'not the layer');
    await expect(content.readBytes(l1!.blob.digest)).rejects.toBeInstanceOf(DigestMismatchError);
    expect(await b.content.has(l1!.blob.digest)).toBe(false);
  });

  it('a re-export keeps existing blobs, writes only new ones and replaces index.json whole', async () => {
    const a = await openStores('a');
    const records = await threeSteps(a.content, a.cache);
    const dest = join(dir, 'export');
    const first = await exportCache({ content: a.content, records: records.slice(0, 1), dest });
    expect(first.blobsWritten).toBe(3); // one layer, config, manifest
    await expectValidLayout(dest);
    const l1Path = join(dest, 'blobs', 'sha256', records[0]!.layers[0]!.blob.digest.slice(7));
    const before = await stat(l1Path);

    const second = await exportCache({ content: a.content, records, dest });
    expect(second.blobsWritten).toBe(4); // two new layers, config, manifest
    expect((await stat(l1Path)).ino).toBe(before.ino);
    await expectValidLayout(dest);
    expect((await importCache(dest)).records.size).toBe(3);

    const again = await exportCache({ content: a.content, records, dest });
    expect(again.blobsWritten).toBe(0);
    expect(again.manifest.digest).toBe(second.manifest.digest);
    // No temporary files are left behind.
    expect((await readdir(dest)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
    expect((await readdir(join(dest, 'blobs', 'sha256'))).every((name) => /^[0-9a-f]{64}$/.test(name))).toBe(true);
  });

  it('readers see the old or the new cache while a re-export runs, never a broken one', async () => {
    const a = await openStores('a');
    const records = await threeSteps(a.content, a.cache);
    const many = [...records];
    for (let i = 0; i < 20; i++) {
      const layer = await storeTestLayer(a.content, { [`f${i}`]: randomBytes(100_000).toString('base64') });
      many.push(recordOf(chainOf([layer])));
    }
    const dest = join(dir, 'export');
    await exportCache({ content: a.content, records: records.slice(0, 1), dest });
    let done = false;
    const exporting = exportCache({ content: a.content, records: many, dest }).finally(() => (done = true));
    const sizes = new Set<number>();
    while (!done) {
      const imported = await importCache(dest);
      sizes.add(imported.records.size);
      for (const record of imported.records.values()) {
        for (const layer of record.layers) await stat(join(imported.blobDir, layer.blob.digest.slice(7)));
      }
    }
    await exporting;
    sizes.add((await importCache(dest)).records.size);
    expect([...sizes].every((size) => size === 1 || size === many.length)).toBe(true);
    expect(sizes.has(many.length)).toBe(true);
  });

  it('records whose blobs are gone are left out of the export', async () => {
    const a = await openStores('a');
    const records = await threeSteps(a.content, a.cache);
    await a.content.remove(records[2]!.layers[2]!.blob.digest);
    const summary = await exportCache({ content: a.content, cache: a.cache, dest: join(dir, 'export') });
    expect(summary.records).toBe(2);
    expect(summary.skipped).toEqual([records[2]!.key]);
  });

  it('mode=min keeps only records on the final chain; mode=max keeps all', () => {
    const chain = chainOf([
      { blob: { mediaType: 'x', digest: `sha256:${'1'.repeat(64)}`, size: 1 }, diffId: `sha256:${'a'.repeat(64)}` },
      { blob: { mediaType: 'x', digest: `sha256:${'2'.repeat(64)}`, size: 1 }, diffId: `sha256:${'b'.repeat(64)}` },
    ]);
    const side = chainOf([{ blob: { mediaType: 'x', digest: `sha256:${'3'.repeat(64)}`, size: 1 }, diffId: `sha256:${'c'.repeat(64)}` }]);
    const used = [recordOf(chain.slice(0, 1)), recordOf(side), recordOf(chain)];
    expect(selectRecordsForExport(used, 'min', chain)).toEqual([used[0], used[2]]);
    expect(selectRecordsForExport(used, 'max', chain)).toEqual(used);
  });

  it('local records win over imported ones and the composite remembers what the build used', async () => {
    const local = await openStores('a');
    const chain = chainOf([await storeTestLayer(local.content, { a: 'a' })]);
    const shared = recordOf(chain, { name: 'local one' });
    await local.cache.put(shared);
    const importedOnly = recordOf(chain, { name: 'imported' });
    const cache = new CompositeCacheStore(local.cache, [new Map([[shared.key, { ...shared, name: 'imported copy' }], [importedOnly.key, importedOnly]])]);
    expect((await cache.get(shared.key))?.name).toBe('local one');
    expect((await cache.get(importedOnly.key))?.name).toBe('imported');
    const made = recordOf(chain, { name: 'made' });
    await cache.put(made);
    expect(await local.cache.get(made.key)).toEqual(made);
    expect((await cache.list()).map((record) => record.key).sort()).toEqual([shared.key, made.key].sort());
    expect(await cache.get(recordOf(chain).key)).toBeUndefined();
    // A key that missed counts once somebody else has written it (a step shared with a concurrent build).
    const late = recordOf(chain, { name: 'shared late' });
    await cache.get(late.key);
    await local.cache.put(late);
    expect((await cache.usedRecords()).map((record) => record.name)).toEqual(['local one', 'imported', 'made', 'shared late']);
  });

  it('importing a directory that was never exported to says there is no cache', async () => {
    await expect(importCache(join(dir, 'nothing'))).rejects.toBeInstanceOf(CacheNotFoundError);
  });

  it('an imported record whose chain IDs do not follow from its diffIDs is refused', async () => {
    const a = await openStores('a');
    const chain = chainOf([await storeTestLayer(a.content, { a: 'a' }), await storeTestLayer(a.content, { b: 'b' })]);
    const forged = recordOf([chain[0]!, { ...chain[1]!, chainId: `sha256:${'f'.repeat(64)}` }]);
    const dest = join(dir, 'export');
    await exportCache({ content: a.content, records: [forged], dest });
    await expect(importCache(dest)).rejects.toThrow(CacheImportError);
    await expect(importCache(dest)).rejects.toThrow(/does not follow from the diffIDs/);
  });
});
