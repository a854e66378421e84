import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { FileContentStore } from '../../src/content/index.js';
import { imageCreatedTime, readImage, writeImage, type ImageLayer } from '../../src/exporter/index.js';
import { contentStoreIn, removeRoot, tempRoot } from './overlay-fixture.js';

let root: string;
let store: FileContentStore;
const savedEpoch = process.env['SOURCE_DATE_EPOCH'];
beforeEach(async () => {
  root = tempRoot('image');
  store = await contentStoreIn(root);
  process.env['SOURCE_DATE_EPOCH'] = '1700000000';
});
afterEach(() => {
  removeRoot(root);
  if (savedEpoch === undefined) delete process.env['SOURCE_DATE_EPOCH'];
  else process.env['SOURCE_DATE_EPOCH'] = savedEpoch;
});

async function layer(text: string): Promise<ImageLayer> {
  const blob = await store.writeBytes(text, 'application/vnd.oci.image.layer.v1.tar+gzip');
  return { blob, diffId: `sha256:${text.padEnd(64, '0')}` };
}

const platform = { os: 'linux', architecture: 'arm64', variant: 'v8' };

describe('writeImage', () => {
  test('writes an OCI config and manifest that read back with layers paired to diffIDs', async () => {
    const layers = [await layer('a'), await layer('b')];
    const { manifest, configDigest } = await writeImage(store, {
      layers,
      config: { Cmd: ['sh'], Env: ['A=1'], ExposedPorts: { '80/tcp': {} } },
      history: [{ created_by: 'ADD rootfs' }, { created_by: 'ENV A=1', empty_layer: true }, { created_by: 'RUN x' }],
      platform,
    });
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    const image = await readImage(store, manifest);
    expect(image.manifest.config).toEqual({ mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: expect.any(Number) });
    expect(image.layers).toEqual(layers.map((l) => ({ blob: { mediaType: l.blob.mediaType, digest: l.blob.digest, size: l.blob.size }, diffId: l.diffId })));
    expect(image.config).toEqual({
      created: '2023-11-14T22:13:20Z',
      architecture: 'arm64',
      os: 'linux',
      variant: 'v8',
      config: { Cmd: ['sh'], Env: ['A=1'], ExposedPorts: { '80/tcp': {} } },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: [
        { created: '2023-11-14T22:13:20Z', created_by: 'ADD rootfs' },
        { created: '2023-11-14T22:13:20Z', created_by: 'ENV A=1', empty_layer: true },
        { created: '2023-11-14T22:13:20Z', created_by: 'RUN x' },
      ],
    });
  });

  test('with SOURCE_DATE_EPOCH, the same inputs give the same manifest digest (canonical JSON)', async () => {
    const input = { layers: [await layer('a')], config: { Labels: { b: '2', a: '1' } }, history: [{ created_by: 'x' }], platform };
    const first = await writeImage(store, input);
    const second = await writeImage(store, { ...input, config: { Labels: { a: '1', b: '2' } } });
    expect(second).toEqual(first);
    const bytes = (await store.readBytes(first.configDigest)).toString();
    expect(bytes.startsWith('{"architecture":"arm64","config":{"Labels":{"a":"1","b":"2"}}')).toBe(true);
  });

  test('history is normalized to one non-empty entry per layer', async () => {
    const layers = [await layer('a'), await layer('b')];
    const fewer = await readImage(store, (await writeImage(store, { layers, config: {}, history: [{ created_by: 'only one' }], platform })).manifest);
    expect(fewer.config.history?.map((h) => [h.created_by, h.empty_layer ?? false])).toEqual([
      ['', false],
      ['only one', false],
    ]);
    const more = await readImage(
      store,
      (await writeImage(store, { layers: [layers[0]!], config: {}, history: [{ created_by: 'one' }, { created_by: 'two' }], platform })).manifest,
    );
    expect(more.config.history?.map((h) => [h.created_by, h.empty_layer ?? false])).toEqual([
      ['one', true],
      ['two', false],
    ]);
  });

  test('a SOURCE_DATE_EPOCH that is not whole seconds is an error naming the variable', () => {
    expect(() => imageCreatedTime({ SOURCE_DATE_EPOCH: 'yesterday' })).toThrow(/SOURCE_DATE_EPOCH/);
    expect(imageCreatedTime({})).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});

describe('readImage', () => {
  test('reads a Docker v2 schema 2 manifest', async () => {
    const config = await store.writeBytes(
      JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['true'] }, rootfs: { type: 'layers', diff_ids: [`sha256:${'1'.repeat(64)}`] } }),
      'application/vnd.docker.container.image.v1+json',
    );
    const blob = await store.writeBytes('layer', 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    const manifest = await store.writeBytes(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: config.digest, size: config.size },
        layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: blob.digest, size: blob.size }],
      }),
      'application/vnd.docker.distribution.manifest.v2+json',
    );
    const image = await readImage(store, manifest);
    expect(image.config.config?.Cmd).toEqual(['true']);
    expect(image.layers[0]!.diffId).toBe(`sha256:${'1'.repeat(64)}`);
  });

  test('picks the requested platform from an image index and explains when it is absent', async () => {
    const arm = await writeImage(store, { layers: [], config: {}, history: [], platform });
    const amd = await writeImage(store, { layers: [], config: { User: 'x' }, history: [], platform: { os: 'linux', architecture: 'amd64' } });
    const index = await store.writeBytes(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { ...arm.manifest, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
          { ...amd.manifest, platform: { os: 'linux', architecture: 'amd64' } },
        ],
      }),
      'application/vnd.oci.image.index.v1+json',
    );
    const chosen = await readImage(store, index, { os: 'linux', architecture: 'amd64' });
    expect(chosen.descriptor.digest).toBe(amd.manifest.digest);
    await expect(readImage(store, index, { os: 'linux', architecture: 's390x' })).rejects.toThrow(/no manifest for linux\/s390x \(it has: linux\/arm64\/v8, linux\/amd64\)/);
  });

  test('a manifest whose config is missing fails with the missing digest', async () => {
    const manifest = await store.writeBytes(
      JSON.stringify({ schemaVersion: 2, config: { mediaType: 'x', digest: `sha256:${'f'.repeat(64)}`, size: 1 }, layers: [] }),
      'application/vnd.oci.image.manifest.v1+json',
    );
    await expect(readImage(store, manifest)).rejects.toThrow(`image config sha256:${'f'.repeat(64)} is missing`);
  });
});
