import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FileContentStore } from '../../src/content/index.js';
import type { Descriptor } from '../../src/content/types.js';
import {
  importRootfs,
  loadArchive,
  readImage,
  writeDockerArchive,
  writeImage,
  writeLayerFromUpperDir,
  writeOciArchive,
} from '../../src/exporter/index.js';
import { applyLayer } from '../../src/snapshot/index.js';
import { contentStoreIn, makeBusyboxRootfs, removeRoot, runInOverlay, tempRoot } from './overlay-fixture.js';

let root: string;
let store: FileContentStore;
let manifest: Descriptor;

/** busybox base layer + a step that deletes /etc/group and adds /etc/app.conf, as a two-layer image. */
beforeAll(async () => {
  root = tempRoot('archive');
  store = await contentStoreIn(root);
  const rootfs = join(root, 'rootfs');
  makeBusyboxRootfs(rootfs);
  const base = await importRootfs(rootfs, store);
  const upper = join(root, 'upper');
  runInOverlay([rootfs], upper, join(root, 'work'), 'rm etc/group && echo app > etc/app.conf');
  const step = (await writeLayerFromUpperDir(upper, store))!;
  const image = await writeImage(store, {
    layers: [base, step],
    config: { Cmd: ['sh'], Env: ['PATH=/bin'] },
    history: [{ created_by: 'kiln import rootfs' }, { created_by: 'RUN rm etc/group', created: '2024-01-01T00:00:00Z' }],
    platform: { os: 'linux', architecture: 'amd64' },
  });
  manifest = image.manifest;
});
afterAll(() => removeRoot(root));

async function saveTo(path: string, write: (out: NodeJS.WritableStream) => Promise<void>): Promise<void> {
  await write(createWriteStream(path));
}

function skopeo(...args: string[]): string {
  return execFileSync('skopeo', ['--insecure-policy', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('writeOciArchive', () => {
  test('skopeo reads the archive, and umoci unpacks it with the whiteout applied', async () => {
    const archive = join(root, 'oci.tar');
    await saveTo(archive, (out) => writeOciArchive(store, [{ name: 'app:latest', manifest }], out as never));
    const inspected = JSON.parse(skopeo('inspect', `oci-archive:${archive}`));
    expect(inspected.Digest).toBe(manifest.digest);
    expect(inspected.Layers).toHaveLength(2);
    expect([inspected.Os, inspected.Architecture]).toEqual(['linux', 'amd64']);

    const layout = join(root, 'layout');
    skopeo('copy', `oci-archive:${archive}`, `oci:${layout}:copied`);
    const bundle = join(root, 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${layout}:copied`, bundle], { stdio: 'pipe' });
    const rootfs = join(bundle, 'rootfs');
    expect(readFileSync(join(rootfs, 'etc', 'app.conf'), 'utf8')).toBe('app\n');
    expect(readFileSync(join(rootfs, 'etc', 'passwd'), 'utf8')).toMatch(/^root:x:0:0/);
    expect(existsSync(join(rootfs, 'etc', 'group'))).toBe(false);
    expect(execFileSync(join(rootfs, 'bin', 'busybox'), ['echo', 'ran'], { encoding: 'utf8' })).toBe('ran\n');
  });

  test('index.json names each image with the containerd name and the OCI tag', async () => {
    const archive = join(root, 'names.tar');
    await saveTo(archive, (out) => writeOciArchive(store, [{ name: 'app', manifest }, { name: 'registry.local:5000/team/app:v2', manifest }], out as never));
    const index = JSON.parse(execFileSync('tar', ['-xOf', archive, 'index.json'], { encoding: 'utf8' }));
    expect(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations)).toEqual([
      { 'io.containerd.image.name': 'app:latest', 'org.opencontainers.image.ref.name': 'latest' },
      { 'io.containerd.image.name': 'registry.local:5000/team/app:v2', 'org.opencontainers.image.ref.name': 'v2' },
    ]);
    expect(JSON.parse(skopeo('inspect', `oci-archive:${archive}:v2`)).Digest).toBe(manifest.digest);
    expect(JSON.parse(execFileSync('tar', ['-xOf', archive, 'oci-layout'], { encoding: 'utf8' }))).toEqual({ imageLayoutVersion: '1.0.0' });
  });
});

describe('writeDockerArchive', () => {
  test('skopeo accepts it as a docker-archive and copies out the same layers', async () => {
    const archive = join(root, 'docker.tar');
    await saveTo(archive, (out) => writeDockerArchive(store, [{ name: 'app:latest', manifest }, { name: 'app:v1', manifest }], out as never));
    const dockerManifest = JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' }));
    expect(dockerManifest).toHaveLength(1);
    expect(dockerManifest[0].RepoTags).toEqual(['app:latest', 'app:v1']);
    const inspected = JSON.parse(skopeo('inspect', `docker-archive:${archive}`));
    expect(inspected.Layers).toHaveLength(2);

    const layout = join(root, 'from-docker');
    skopeo('copy', `docker-archive:${archive}:app:v1`, `oci:${layout}:x`);
    const bundle = join(root, 'docker-bundle');
    execFileSync('umoci', ['unpack', '--image', `${layout}:x`, bundle], { stdio: 'pipe' });
    expect(existsSync(join(bundle, 'rootfs', 'etc', 'group'))).toBe(false);
    expect(readFileSync(join(bundle, 'rootfs', 'etc', 'app.conf'), 'utf8')).toBe('app\n');
  });
});

describe('loadArchive', () => {
  test('an OCI archive loads back to the same manifest and name, blobs verified', async () => {
    const archive = join(root, 'load-oci.tar');
    await saveTo(archive, (out) => writeOciArchive(store, [{ name: 'app:latest', manifest }], out as never));
    const fresh = await contentStoreIn(join(root, 'fresh-oci'));
    expect(await loadArchive(archive, fresh)).toEqual([{ name: 'app:latest', manifest: { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size } }]);
    const image = await readImage(fresh, manifest);
    expect(image.layers).toHaveLength(2);
  });

  test('a gzip-compressed docker archive with two tags loads both names', async () => {
    const archive = join(root, 'load-docker.tar');
    await saveTo(archive, (out) => writeDockerArchive(store, [{ name: 'app:latest', manifest }, { name: 'docker.io/library/app:v1', manifest }], out as never));
    await pipeline(createReadStream(archive), createGzip(), createWriteStream(`${archive}.gz`));
    const fresh = await contentStoreIn(join(root, 'fresh-docker'));
    const loaded = await loadArchive(createReadStream(`${archive}.gz`), fresh);
    expect(loaded.map((image) => [image.name, image.manifest.digest])).toEqual([
      ['app:latest', manifest.digest],
      ['app:v1', manifest.digest],
    ]);
  });

  test('a legacy docker-archive written by skopeo (uncompressed layer.tar files) loads and unpacks to its diffIDs', async () => {
    const layout = join(root, 'legacy-src');
    const archive = join(root, 'legacy.tar');
    const ociArchive = join(root, 'legacy-oci.tar');
    await saveTo(ociArchive, (out) => writeOciArchive(store, [{ name: 'app:latest', manifest }], out as never));
    skopeo('copy', `oci-archive:${ociArchive}`, `oci:${layout}:x`);
    skopeo('copy', `oci:${layout}:x`, `docker-archive:${archive}:example.com/legacy:v1`);
    expect(execFileSync('tar', ['-tf', archive], { encoding: 'utf8' })).not.toMatch(/index\.json/);

    const fresh = await contentStoreIn(join(root, 'fresh-legacy'));
    const loaded = await loadArchive(archive, fresh);
    expect(loaded.map((image) => image.name)).toEqual(['example.com/legacy:v1']);
    const image = await readImage(fresh, loaded[0]!.manifest);
    expect(image.config.config?.Cmd).toEqual(['sh']);
    for (const [i, layer] of image.layers.entries()) {
      const { diffId } = await applyLayer(fresh.read(layer.blob.digest), join(root, `legacy-unpacked-${i}`));
      expect(diffId).toBe(layer.diffId);
    }
  });

  test('an OCI archive from skopeo names its image by a full ref.name', async () => {
    const layout = join(root, 'skopeo-src');
    const ociArchive = join(root, 'for-skopeo.tar');
    await saveTo(ociArchive, (out) => writeOciArchive(store, [{ name: 'app:latest', manifest }], out as never));
    skopeo('copy', `oci-archive:${ociArchive}`, `oci:${layout}:x`);
    const archive = join(root, 'skopeo-oci.tar');
    skopeo('copy', `oci:${layout}:x`, `oci-archive:${archive}:example.com/app:v2`);
    const fresh = await contentStoreIn(join(root, 'fresh-skopeo'));
    const loaded = await loadArchive(archive, fresh);
    expect(loaded.map((image) => image.name)).toEqual(['example.com/app:v2']);
  });

  test('a multi-platform index round-trips with its locally present children', async () => {
    const arm = await writeImage(store, { layers: [], config: {}, history: [], platform: { os: 'linux', architecture: 'arm64' } });
    const index = await store.writeBytes(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { ...manifest, platform: { os: 'linux', architecture: 'amd64' } },
          { ...arm.manifest, platform: { os: 'linux', architecture: 'arm64' } },
        ],
      }),
      'application/vnd.oci.image.index.v1+json',
    );
    const archive = join(root, 'index.tar');
    await saveTo(archive, (out) => writeOciArchive(store, [{ name: 'multi:1', manifest: index }], out as never));
    expect(JSON.parse(skopeo('inspect', '--override-arch', 'arm64', `oci-archive:${archive}`)).Architecture).toBe('arm64');
    const fresh = await contentStoreIn(join(root, 'fresh-index'));
    const [loaded] = await loadArchive(archive, fresh);
    expect(loaded).toEqual({ name: 'multi:1', manifest: { mediaType: index.mediaType, digest: index.digest, size: index.size } });
    const amd = await readImage(fresh, loaded!.manifest, { os: 'linux', architecture: 'amd64' });
    expect(amd.descriptor.digest).toBe(manifest.digest);
  });

  test('a tar that is not an image archive is refused with a clear message', async () => {
    const archive = join(root, 'not-image.tar');
    writeFileSync(join(root, 'hello.txt'), 'hi');
    execFileSync('tar', ['-cf', archive, '-C', root, 'hello.txt']);
    await expect(loadArchive(archive, await contentStoreIn(join(root, 'fresh-bad')))).rejects.toThrow(/neither an OCI index.json nor a docker manifest.json/);
  });

  test('a blob whose bytes do not match its name is refused', async () => {
    const dir = join(root, 'tampered');
    execFileSync('mkdir', ['-p', join(dir, 'blobs', 'sha256')]);
    writeFileSync(join(dir, 'blobs', 'sha256', 'a'.repeat(64)), 'not what the name says');
    writeFileSync(join(dir, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    execFileSync('tar', ['-cf', `${dir}.tar`, '-C', dir, '.']);
    await expect(loadArchive(`${dir}.tar`, await contentStoreIn(join(root, 'fresh-tampered')))).rejects.toThrow(/does not match/);
  });
});
