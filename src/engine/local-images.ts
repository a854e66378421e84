// Base images from the local image store: resolves a FROM reference to its manifest, config and layer chain.
import type { ContentStore, Descriptor, ImageStore } from '../content/types.js';
import { KilnError } from '../errors.js';
import { readImage } from '../exporter/index.js';
import type { HistoryStep, ImageMetaResolver, ImageRuntimeConfig, Platform } from '../llb/types.js';
import { chainIdOf } from '../snapshot/chain-id.js';
import type { LayerRef } from '../snapshot/types.js';
import type { ResolvedBaseImage } from '../solver/types.js';
import { importFromOciLayout } from './oci-layout-source.js';
import { hostPlatform } from './platform.js';

export const OCI_LAYOUT_PREFIX = 'oci-layout://';

export class ImageNotFoundError extends KilnError {}

export interface LocalImage extends ResolvedBaseImage {
  readonly name: string;
  readonly author?: string;
  readonly config: ImageRuntimeConfig;
  readonly history: readonly HistoryStep[];
  readonly platform: Platform;
}

/** The names a reference may be stored under: as written, and without docker.io/library/ (docker's default). */
function candidateNames(ref: string): string[] {
  const names = [ref];
  const short = ref.replace(/^(docker\.io\/)?(library\/)?/, '');
  if (short !== ref) names.push(short);
  return names;
}

/** Reads an image's config and layer chain from its manifest. */
export async function imageFromManifest(content: ContentStore, manifest: Descriptor, name: string): Promise<LocalImage> {
  const image = await readImage(content, manifest);
  let parent: string | undefined;
  const layers: LayerRef[] = image.layers.map((layer) => {
    parent = chainIdOf(parent, layer.diffId);
    return { blob: layer.blob, diffId: layer.diffId, chainId: parent };
  });
  const history: HistoryStep[] = (image.config.history ?? []).map((entry) => ({
    createdBy: entry.created_by ?? '',
    ...(entry.comment === undefined ? {} : { comment: entry.comment }),
    ...(entry.created === undefined ? {} : { created: entry.created }),
    emptyLayer: entry.empty_layer === true,
  }));
  return {
    name,
    manifestDigest: manifest.digest,
    ...(image.config.author === undefined ? {} : { author: image.config.author }),
    layers,
    config: image.config.config ?? {},
    history,
    platform: { os: image.config.os, architecture: image.config.architecture, ...(image.config.variant ? { variant: image.config.variant } : {}) },
  };
}

/** Finds `ref` in the local image store (or an OCI layout for "oci-layout://DIR[:TAG]") and loads it. */
export async function loadLocalImage(images: ImageStore, content: ContentStore, ref: string): Promise<LocalImage> {
  if (ref.startsWith(OCI_LAYOUT_PREFIX)) {
    const manifest = await importFromOciLayout(ref.slice(OCI_LAYOUT_PREFIX.length), content, hostPlatform());
    return imageFromManifest(content, manifest, ref);
  }
  for (const name of candidateNames(ref)) {
    const manifest = await images.resolve(name);
    if (manifest) return imageFromManifest(content, manifest, name);
  }
  throw new ImageNotFoundError(`image "${ref}" was not found in the local image store (make one with "kiln import ROOTFS NAME" or "kiln load")`);
}

/** The frontend's view of local base images; each image is read once per build. */
export class LocalImageResolver implements ImageMetaResolver {
  private readonly loaded = new Map<string, Promise<LocalImage>>();

  constructor(
    private readonly images: ImageStore,
    private readonly content: ContentStore,
  ) {}

  load(ref: string): Promise<LocalImage> {
    let image = this.loaded.get(ref);
    if (!image) {
      image = loadLocalImage(this.images, this.content, ref);
      this.loaded.set(ref, image);
    }
    return image;
  }

  async resolveImageConfig(ref: string): Promise<{ digest: string; config: ImageRuntimeConfig; history: readonly HistoryStep[]; author?: string }> {
    const image = await this.load(ref);
    return { digest: image.manifestDigest, config: image.config, history: image.history, ...(image.author === undefined ? {} : { author: image.author }) };
  }
}
