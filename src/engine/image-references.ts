// What tagged images hold: their manifest, config and layer blobs, and the snapshots of their layer chains.
import type { ContentStore, Descriptor, ImageStore } from '../content/types.js';
import { KilnError } from '../errors.js';
import { chainIdOf } from '../snapshot/chain-id.js';

export interface HeldByImages {
  readonly blobs: Set<string>;
  readonly chainIds: Set<string>;
}

interface ManifestOrIndexJson {
  readonly manifests?: readonly Descriptor[];
  readonly config?: Descriptor;
  readonly layers?: readonly Descriptor[];
}

async function readJson<T>(content: ContentStore, digest: string, what: string): Promise<T> {
  try {
    return JSON.parse((await content.readBytes(digest)).toString('utf8')) as T;
  } catch (error) {
    throw new KilnError(`${what} ${digest} cannot be read (${error instanceof Error ? error.message : String(error)}); remove the image with "kiln rmi" or reload it`, { cause: error });
  }
}

async function markManifest(content: ContentStore, descriptor: Descriptor, held: HeldByImages, image: string): Promise<void> {
  held.blobs.add(descriptor.digest);
  const json = await readJson<ManifestOrIndexJson>(content, descriptor.digest, `the manifest of image "${image}"`);
  if (Array.isArray(json.manifests)) {
    // An index may name platforms that were never fetched; only those present hold anything.
    for (const child of json.manifests) {
      if (await content.has(child.digest)) await markManifest(content, child, held, image);
    }
    return;
  }
  if (!json.config || !Array.isArray(json.layers)) throw new KilnError(`the manifest ${descriptor.digest} of image "${image}" has no config or layers`);
  held.blobs.add(json.config.digest);
  for (const layer of json.layers) held.blobs.add(layer.digest);
  const config = await readJson<{ rootfs?: { diff_ids?: readonly string[] } }>(content, json.config.digest, `the config of image "${image}"`);
  let chainId: string | undefined;
  for (const diffId of config.rootfs?.diff_ids ?? []) {
    chainId = chainIdOf(chainId, diffId);
    held.chainIds.add(chainId);
  }
}

/** Everything some tagged image needs; a tagged image that cannot be read stops the caller rather than lose its data. */
export async function heldByTaggedImages(images: ImageStore, content: ContentStore): Promise<HeldByImages> {
  const held: HeldByImages = { blobs: new Set(), chainIds: new Set() };
  for (const { name, manifest } of await images.list()) await markManifest(content, manifest, held, name);
  return held;
}
