// Writes an image's config and manifest blobs (canonical JSON) to the content store.
import type { ContentStore, Descriptor } from '../content/types.js';
import { KilnError } from '../errors.js';
import { canonicalJson, type ImageRuntimeConfig, type Platform } from '../llb/index.js';
import { DOCKER_LAYER_GZIP, OCI_CONFIG, OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_MANIFEST } from './media-types.js';
import type { ImageLayer, OciHistory, OciImageConfig, OciManifest } from './oci-types.js';

export interface ImageInput {
  readonly layers: readonly ImageLayer[];
  readonly config: ImageRuntimeConfig;
  readonly history: readonly OciHistory[];
  readonly platform: Platform;
  /** RFC 3339; default: SOURCE_DATE_EPOCH if set, else now. */
  readonly created?: string;
  /** The config's author field (MAINTAINER). */
  readonly author?: string;
}

export class ImageWriteError extends KilnError {}

/** Stores the OCI config and manifest of an image; returns the manifest descriptor and the config digest (the image ID). */
export async function writeImage(content: ContentStore, input: ImageInput): Promise<{ manifest: Descriptor; configDigest: string }> {
  const created = input.created ?? imageCreatedTime();
  const config: OciImageConfig = {
    created,
    ...(input.author === undefined ? {} : { author: input.author }),
    architecture: input.platform.architecture,
    os: input.platform.os,
    ...(input.platform.variant ? { variant: input.platform.variant } : {}),
    config: input.config,
    rootfs: { type: 'layers', diff_ids: input.layers.map((layer) => layer.diffId) },
    history: normalizedHistory(input.history, input.layers.length, created),
  };
  const configBlob = await content.writeBytes(canonicalJson(config), OCI_CONFIG);
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: configBlob.digest, size: configBlob.size },
    layers: input.layers.map((layer) => ({ mediaType: ociLayerMediaType(layer.blob), digest: layer.blob.digest, size: layer.blob.size })),
  };
  const manifestBlob = await content.writeBytes(canonicalJson(manifest), OCI_MANIFEST);
  return { manifest: { mediaType: OCI_MANIFEST, digest: manifestBlob.digest, size: manifestBlob.size }, configDigest: configBlob.digest };
}

/** RFC 3339 creation time: SOURCE_DATE_EPOCH (seconds) for reproducible builds, else the current time. */
export function imageCreatedTime(env: NodeJS.ProcessEnv = process.env): string {
  const epoch = env['SOURCE_DATE_EPOCH'];
  if (epoch === undefined || epoch === '') return new Date().toISOString();
  if (!/^\d+$/.test(epoch)) throw new ImageWriteError(`SOURCE_DATE_EPOCH must be whole seconds since 1970, got "${epoch}"`);
  return new Date(Number(epoch) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * One non-empty history entry per layer, as image tools expect (BuildKit normalizes the same way):
 * missing entries are added at the bottom, surplus non-empty ones (from the bottom) are marked empty_layer.
 */
function normalizedHistory(history: readonly OciHistory[], layerCount: number, created: string): OciHistory[] {
  const entries = history.map((entry) => ({ ...entry, created: entry.created ?? created }));
  let nonEmpty = entries.filter((entry) => entry.empty_layer !== true).length;
  if (nonEmpty < layerCount) {
    const missing = Array.from({ length: layerCount - nonEmpty }, () => ({ created, created_by: '', comment: 'layer without history' }));
    return [...missing, ...entries];
  }
  for (let i = 0; i < entries.length && nonEmpty > layerCount; i++) {
    if (entries[i]!.empty_layer !== true) {
      entries[i] = { ...entries[i]!, empty_layer: true };
      nonEmpty--;
    }
  }
  return entries.map((entry) => (entry.empty_layer === true ? entry : withoutEmptyFlag(entry)));
}

function withoutEmptyFlag(entry: OciHistory): OciHistory {
  const { empty_layer: _ignored, ...rest } = entry;
  return rest;
}

/** OCI manifests name layers with OCI media types, whatever the blob was stored or pulled as. */
function ociLayerMediaType(blob: Descriptor): string {
  if (blob.mediaType === DOCKER_LAYER_GZIP || blob.mediaType === OCI_LAYER_GZIP) return OCI_LAYER_GZIP;
  if (blob.mediaType === 'application/vnd.docker.image.rootfs.diff.tar' || blob.mediaType === OCI_LAYER_TAR) return OCI_LAYER_TAR;
  if (blob.mediaType.startsWith('application/vnd.oci.image.layer.')) return blob.mediaType;
  throw new ImageWriteError(`layer ${blob.digest} has media type ${blob.mediaType}, which an OCI manifest cannot list`);
}
