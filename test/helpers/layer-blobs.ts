// Real gzip tar layer blobs and image manifests in a content store, for cache transfer and prune tests.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import type { CacheRecord, CachedLayer } from '../../src/cache/types.js';
import type { ContentStore, Descriptor, ImageStore } from '../../src/content/types.js';
import { chainIdOf } from '../../src/snapshot/chain-id.js';

export const LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** A tar of regular files (name → content), as bytes. */
export async function tarOf(files: Readonly<Record<string, string>>): Promise<Buffer> {
  const archive = pack();
  // Read while writing: the pack stream stops calling back once its buffer is full.
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of archive as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const [name, content] of Object.entries(files)) {
    await new Promise<void>((resolve, reject) => {
      archive.entry({ name, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }, content, (error) => (error ? reject(error) : resolve()));
    });
  }
  archive.finalize();
  await collected;
  return Buffer.concat(chunks);
}

export interface TestLayer {
  readonly blob: Descriptor;
  readonly diffId: string;
}

/** Stores a gzip layer holding `files` and returns its descriptor and diffID. */
export async function storeTestLayer(content: ContentStore, files: Readonly<Record<string, string>>): Promise<TestLayer> {
  const tar = await tarOf(files);
  const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  const blob = await content.writeBytes(gzipSync(tar), LAYER_GZIP);
  return { blob, diffId };
}

/** Layers stacked in order, with their chain IDs. */
export function chainOf(layers: readonly TestLayer[]): CachedLayer[] {
  let parent: string | undefined;
  return layers.map((layer) => {
    parent = chainIdOf(parent, layer.diffId);
    return { blob: layer.blob, diffId: layer.diffId, chainId: parent };
  });
}

let keyCounter = 0;

/** A cache record for a chain; the key is unique per call unless given. */
export function recordOf(layers: readonly CachedLayer[], opts: { name?: string; createdAt?: Date; key?: string } = {}): CacheRecord {
  const key = opts.key ?? `sha256:${createHash('sha256').update(`test-key-${process.pid}-${keyCounter++}-${Math.random()}`).digest('hex')}`;
  return {
    key,
    layers,
    createdAt: (opts.createdAt ?? new Date()).toISOString(),
    name: opts.name ?? `[test] step ${keyCounter}`,
    inputs: { input0: layers.at(-2)?.chainId ?? 'scratch' },
  };
}

/** Writes an OCI image (config + manifest) over `chain` and tags it; returns the manifest and config descriptors. */
export async function tagTestImage(
  content: ContentStore,
  images: ImageStore,
  name: string,
  chain: readonly CachedLayer[],
): Promise<{ manifest: Descriptor; config: Descriptor }> {
  const config = await content.writeBytes(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: chain.map((layer) => layer.diffId) } }),
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = await content.writeBytes(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
      layers: chain.map((layer) => ({ mediaType: layer.blob.mediaType, digest: layer.blob.digest, size: layer.blob.size })),
    }),
    'application/vnd.oci.image.manifest.v1+json',
  );
  await images.tag(name, manifest);
  return { manifest, config };
}
