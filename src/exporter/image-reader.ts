// Reads an image (OCI or Docker v2 manifest, or an index holding one) back from the content store.
import type { ContentStore, Descriptor } from '../content/types.js';
import { KilnError } from '../errors.js';
import type { Platform } from '../llb/index.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from './media-types.js';
import type { ImageLayer, OciImageConfig, OciIndex, OciManifest } from './oci-types.js';

export class ImageReadError extends KilnError {}

export interface ImageRead {
  /** The single-platform manifest (after choosing from an index if `manifest` named one). */
  readonly descriptor: Descriptor;
  readonly manifest: OciManifest;
  readonly config: OciImageConfig;
  readonly layers: readonly ImageLayer[];
}

/** Loads manifest and config; for an index, picks the manifest of `platform` (or the only one). */
export async function readImage(content: ContentStore, manifest: Descriptor, platform?: Platform): Promise<ImageRead> {
  const document = await readJson(content, manifest, 'manifest');
  const mediaType = stringField(document, 'mediaType') ?? manifest.mediaType;
  if (mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST || (mediaType === undefined && 'manifests' in document)) {
    const chosen = chooseManifest(document as unknown as OciIndex, manifest, platform);
    return readImage(content, chosen, platform);
  }
  if (mediaType !== OCI_MANIFEST && mediaType !== DOCKER_MANIFEST && mediaType !== undefined) {
    throw new ImageReadError(`${manifest.digest} has media type ${mediaType}, which is not an image manifest`);
  }
  const parsed = document as unknown as OciManifest;
  if (parsed.schemaVersion !== 2 || typeof parsed.config?.digest !== 'string' || !Array.isArray(parsed.layers)) {
    throw new ImageReadError(`${manifest.digest} is not a schema 2 image manifest`);
  }
  const config = (await readJson(content, parsed.config, 'config')) as unknown as OciImageConfig;
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== parsed.layers.length) {
    throw new ImageReadError(
      `image ${manifest.digest}: its config lists ${Array.isArray(diffIds) ? diffIds.length : 'no'} diffIDs for ${parsed.layers.length} layers`,
    );
  }
  const layers = parsed.layers.map((blob, i) => ({ blob, diffId: diffIds[i]! }));
  return { descriptor: { ...manifest, mediaType: mediaType ?? OCI_MANIFEST }, manifest: parsed, config, layers };
}

function chooseManifest(index: OciIndex, descriptor: Descriptor, platform?: Platform): Descriptor {
  const images = (index.manifests ?? []).filter((m) => m.mediaType === OCI_MANIFEST || m.mediaType === DOCKER_MANIFEST);
  const matching = platform
    ? images.filter(
        (m) =>
          m.platform?.os === platform.os &&
          m.platform?.architecture === platform.architecture &&
          (platform.variant === undefined || m.platform?.variant === platform.variant),
      )
    : images;
  if (matching.length === 1 || (platform !== undefined && matching.length > 0)) return matching[0]!;
  const available = images.map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}${m.platform.variant ? `/${m.platform.variant}` : ''}` : m.digest));
  const wanted = platform ? `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}` : 'a single platform';
  throw new ImageReadError(`image index ${descriptor.digest} has no manifest for ${wanted} (it has: ${available.join(', ') || 'none'})`);
}

async function readJson(content: ContentStore, descriptor: Descriptor, what: string): Promise<Record<string, unknown>> {
  if (!(await content.has(descriptor.digest))) {
    throw new ImageReadError(`image ${what} ${descriptor.digest} is missing from the content store`);
  }
  const bytes = await content.readBytes(descriptor.digest);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ImageReadError(`image ${what} ${descriptor.digest} is not valid JSON`, { cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ImageReadError(`image ${what} ${descriptor.digest} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function stringField(document: Record<string, unknown>, key: string): string | undefined {
  const value = document[key];
  return typeof value === 'string' ? value : undefined;
}
