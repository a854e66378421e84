// A build's cache transfer: what one root exports, a fresh root imports, unpacks from, and keeps only what it needed.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CacheRecord } from '../../src/cache/types.js';
import { openBuildCacheTransfer } from '../../src/engine/build-cache-transfer.js';
import type { KilnRoot } from '../../src/engine/kiln-root.js';
import { chainOf, recordOf, storeTestLayer } from '../helpers/layer-blobs.js';
import { makeStoreRoot } from '../helpers/store-root.js';

let exporter: KilnRoot;
let fresh: KilnRoot;

beforeEach(async () => {
  exporter = await makeStoreRoot('kiln-test-exporter-');
  fresh = await makeStoreRoot('kiln-test-fresh-');
});

afterEach(async () => {
  await rm(exporter.root, { recursive: true, force: true });
  await rm(fresh.root, { recursive: true, force: true });
});

/** A build in `exporter`: base → step1 → step2 (final), plus a side step that is not in the image. */
async function exporterBuild(): Promise<{ final: CacheRecord; step1: CacheRecord; side: CacheRecord }> {
  const base = await storeTestLayer(exporter.content, { 'bin/sh': 'shell' });
  const one = await storeTestLayer(exporter.content, { 'app/one': 'one' });
  const two = await storeTestLayer(exporter.content, { 'app/two': 'two' });
  const other = await storeTestLayer(exporter.content, { 'tmp/side': 'side' });
  const step1 = recordOf(chainOf([base, one]), { name: 'RUN one' });
  const final = recordOf(chainOf([base, one, two]), { name: 'RUN two' });
  const side = recordOf(chainOf([base, other]), { name: 'RUN side' });
  for (const record of [step1, final, side]) await exporter.cache.put(record);
  return { final, step1, side };
}

describe('build cache transfer', () => {
  it('mode=max exports every record the build used; a fresh root hits them all and fetches only what it unpacks', async () => {
    const { final, step1, side } = await exporterBuild();
    const dest = join(exporter.root, 'cache-out');
    const first = await openBuildCacheTransfer(exporter, { cacheFrom: [], cacheTo: [{ type: 'local', dest, mode: 'max' }] });
    for (const record of [step1, final, side]) expect(await first.cache.get(record.key)).toEqual(record);
    const [summary] = await first.finish(final.layers, new AbortController().signal);
    expect(summary!.records).toBe(3);

    const second = await openBuildCacheTransfer(fresh, { cacheFrom: [{ type: 'local', src: dest, mode: 'min' }], cacheTo: [] });
    for (const record of [step1, final, side]) {
      const hit = await second.cache.get(record.key);
      expect(hit).toEqual(record);
      for (const layer of hit!.layers) expect(await second.content.has(layer.blob.digest)).toBe(true);
    }
    expect(await fresh.content.list()).toEqual([]);

    // A step running on step1's result unpacks its chain: those two blobs, and nothing else, come in.
    const lowerDirs = await second.snapshots.lowerDirsOf(step1.layers);
    expect(await readFile(join(lowerDirs[0]!, 'app', 'one'), 'utf8')).toBe('one');
    expect((await fresh.content.list()).sort()).toEqual(step1.layers.map((layer) => layer.blob.digest).sort());

    // The final image's layers must be local before the image is written.
    await second.finish(final.layers, new AbortController().signal);
    expect((await fresh.content.list()).sort()).toEqual(final.layers.map((layer) => layer.blob.digest).sort());
    expect(await fresh.content.has(side.layers[1]!.blob.digest)).toBe(false);
    // Imported hits whose blobs are now local become local records; the side step's blob never came, so it did not.
    expect(await fresh.cache.get(final.key)).toEqual(final);
    expect(await fresh.cache.get(step1.key)).toEqual(step1);
    expect(await fresh.cache.get(side.key)).toBeUndefined();
  });

  it('mode=min exports only the steps that made the final image', async () => {
    const { final, step1, side } = await exporterBuild();
    const dest = join(exporter.root, 'cache-min');
    const transfer = await openBuildCacheTransfer(exporter, { cacheFrom: [], cacheTo: [{ type: 'local', dest, mode: 'min' }] });
    for (const record of [step1, side, final]) await transfer.cache.get(record.key);
    await transfer.finish(final.layers, new AbortController().signal);
    const imported = await openBuildCacheTransfer(fresh, { cacheFrom: [{ type: 'local', src: dest, mode: 'min' }], cacheTo: [] });
    expect(await imported.cache.get(final.key)).toEqual(final);
    expect(await imported.cache.get(step1.key)).toEqual(step1);
    expect(await imported.cache.get(side.key)).toBeUndefined();
  });

  it('a --cache-from directory with no cache yet is a warning, not a failure', async () => {
    const transfer = await openBuildCacheTransfer(fresh, { cacheFrom: [{ type: 'local', src: join(fresh.root, 'nothing'), mode: 'min' }], cacheTo: [] });
    expect(transfer.warnings).toHaveLength(1);
    expect(transfer.warnings[0]).toMatch(/--cache-from type=local,src=.*nothing: no cache at/);
    expect(transfer.content).toBe(fresh.content);
    expect(transfer.snapshots).toBe(fresh.snapshots);
  });
});
