// The on-disk shape of an exported cache: an OCI image layout whose "latest" manifest is a kiln cache artifact.
import { KilnError } from '../errors.js';
import { chainIdOf } from '../snapshot/chain-id.js';
import type { CacheRecord, CachedLayer } from './types.js';

export const OCI_INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
/** The manifest's artifactType: tools that copy OCI layouts (skopeo, oras) carry it along unchanged. */
export const CACHE_ARTIFACT_TYPE = 'application/vnd.kiln.cache.v1';
/** The config blob: the cache records themselves. Layers are the manifest's layers, so copies keep them. */
export const CACHE_CONFIG_MEDIA_TYPE = 'application/vnd.kiln.cache.config.v1+json';
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** The ref name a re-export replaces. */
export const CACHE_REF_NAME = 'latest';

export interface CacheConfigDocument {
  readonly schemaVersion: 1;
  readonly records: readonly CacheRecord[];
}

export class CacheImportError extends KilnError {}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks one imported layer chain; chain IDs must follow from the diffIDs, so a record cannot alias another snapshot. */
function layersOf(value: unknown, where: string): CachedLayer[] {
  if (!Array.isArray(value)) throw new CacheImportError(`${where}: "layers" is not a list`);
  let parent: string | undefined;
  return value.map((layer: unknown, index) => {
    const at = `${where} layer ${index}`;
    if (!isObject(layer) || !isObject(layer.blob)) throw new CacheImportError(`${at}: not a layer descriptor`);
    const { mediaType, digest, size } = layer.blob;
    if (typeof mediaType !== 'string' || typeof digest !== 'string' || !DIGEST.test(digest) || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw new CacheImportError(`${at}: the blob descriptor needs mediaType, a sha256 digest and a size`);
    }
    const { diffId, chainId } = layer;
    if (typeof diffId !== 'string' || !DIGEST.test(diffId)) throw new CacheImportError(`${at}: invalid diffId`);
    parent = chainIdOf(parent, diffId);
    if (chainId !== parent) throw new CacheImportError(`${at}: chainId ${String(chainId)} does not follow from the diffIDs (expected ${parent})`);
    return { blob: { mediaType, digest, size }, diffId, chainId: parent };
  });
}

function recordOf(value: unknown, where: string): CacheRecord {
  if (!isObject(value)) throw new CacheImportError(`${where}: not an object`);
  const { key, createdAt, name, inputs } = value;
  if (typeof key !== 'string' || !DIGEST.test(key)) throw new CacheImportError(`${where}: invalid key`);
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) throw new CacheImportError(`${where}: invalid createdAt`);
  if (typeof name !== 'string') throw new CacheImportError(`${where}: invalid name`);
  if (!isObject(inputs) || !Object.values(inputs).every((input) => typeof input === 'string')) {
    throw new CacheImportError(`${where}: inputs must map labels to strings`);
  }
  return { key, layers: layersOf(value.layers, `${where} (${key})`), createdAt, name, inputs: inputs as Record<string, string> };
}

/** Validates a parsed cache config blob; `where` names it in errors. */
export function parseCacheConfig(value: unknown, where: string): CacheConfigDocument {
  if (!isObject(value) || value.schemaVersion !== 1 || !Array.isArray(value.records)) {
    throw new CacheImportError(`${where}: not a kiln cache config (schemaVersion 1 with a records list)`);
  }
  return { schemaVersion: 1, records: value.records.map((record: unknown, index) => recordOf(record, `${where} record ${index}`)) };
}
