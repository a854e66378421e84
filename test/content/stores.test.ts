// The content store verifies what it keeps; the image store keeps names in an OCI index.json.
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DigestMismatchError, FileContentStore, FileImageStore, normaliseImageName } from '../../src/content/index.js';
import { sha256Digest } from '../../src/llb/digest.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-stores-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FileContentStore', () => {
  it('stores a stream under its sha256 and reads it back', async () => {
    const store = new FileContentStore(join(dir, 'content'));
    await store.init();
    const descriptor = await store.write(Readable.from([Buffer.from('hello '), Buffer.from('world')]), 'text/plain');
    expect(descriptor).toEqual({ mediaType: 'text/plain', digest: sha256Digest('hello world'), size: 11 });
    expect(await store.has(descriptor.digest)).toBe(true);
    expect((await store.readBytes(descriptor.digest)).toString()).toBe('hello world');
    expect(await store.list()).toEqual([descriptor.digest]);
  });

  it('refuses content whose digest is not the expected one and keeps nothing', async () => {
    const store = new FileContentStore(join(dir, 'content'));
    await store.init();
    await expect(store.write(Readable.from([Buffer.from('abc')]), 'text/plain', sha256Digest('xyz'))).rejects.toBeInstanceOf(DigestMismatchError);
    expect(await store.list()).toEqual([]);
    expect(await readdir(join(dir, 'content', 'ingest'))).toEqual([]);
  });

  it('drops partial ingest files of a crashed writer when it starts, and keeps those of a live one', async () => {
    await mkdir(join(dir, 'content', 'ingest'), { recursive: true });
    // Above the kernel's largest pid_max (2^22): no process can have it.
    await writeFile(join(dir, 'content', 'ingest', '4194305-partial'), 'half a layer');
    await writeFile(join(dir, 'content', 'ingest', `${process.pid}-writing`), 'a layer on its way');
    const store = new FileContentStore(join(dir, 'content'));
    await store.init();
    expect(await readdir(join(dir, 'content', 'ingest'))).toEqual([`${process.pid}-writing`]);
  });

  it('detects a blob corrupted on disk', async () => {
    const store = new FileContentStore(join(dir, 'content'));
    await store.init();
    const descriptor = await store.writeBytes('{"a":1}', 'application/json');
    await writeFile(store.pathOf(descriptor.digest), '{"a":2}');
    await expect(store.readBytes(descriptor.digest)).rejects.toBeInstanceOf(DigestMismatchError);
  });
});

describe('FileImageStore', () => {
  const manifest = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256Digest('m'), size: 1 };

  it('normalises names like docker: no tag means latest', () => {
    expect(normaliseImageName('app')).toBe('app:latest');
    expect(normaliseImageName('registry:5000/app')).toBe('registry:5000/app:latest');
    expect(normaliseImageName('app:v1')).toBe('app:v1');
  });

  it('tags, resolves, lists and removes names in an OCI index.json', async () => {
    const store = new FileImageStore(join(dir, 'images'));
    await store.init();
    await store.tag('app', manifest);
    await store.tag('app:v2', manifest);
    expect(await store.resolve('app:latest')).toMatchObject({ digest: manifest.digest });
    expect(await store.resolve(manifest.digest.slice(7, 19))).toMatchObject({ digest: manifest.digest });
    const index = JSON.parse(await readFile(join(dir, 'images', 'index.json'), 'utf8')) as { schemaVersion: number; manifests: Array<{ annotations: Record<string, string> }> };
    expect(index.schemaVersion).toBe(2);
    expect(index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(['app:latest', 'app:v2']);
    expect(await store.remove('app')).toBe(true);
    expect(await store.remove('app')).toBe(false);
    expect((await store.list()).map((image) => image.name)).toEqual(['app:v2']);
  });

  it('keeps an untagged image reachable by its ID until a name takes it over or it is removed by ID', async () => {
    const store = new FileImageStore(join(dir, 'images'));
    await store.init();
    await store.keepUntagged(manifest);
    await store.keepUntagged(manifest);
    expect(await store.list()).toEqual([{ name: '<none>', manifest }]);
    expect(await store.resolve(manifest.digest)).toEqual(manifest);
    expect(await store.remove('app')).toBe(false);
    expect(await store.remove(manifest.digest.slice(7, 19))).toBe(true);
    expect(await store.list()).toEqual([]);
    await store.keepUntagged(manifest);
    await store.tag('app', manifest);
    expect((await store.list()).map((image) => image.name)).toEqual(['app:latest']);
  });

  it('keeps every tag when many are written at once', async () => {
    const store = new FileImageStore(join(dir, 'images'));
    await store.init();
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.tag(`app:${i}`, manifest)));
    expect(await store.list()).toHaveLength(20);
  });
});
