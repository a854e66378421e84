// --cache-to type=local: writes cache records and their layer blobs as an OCI image layout, incrementally.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContentStore, Descriptor } from '../content/types.js';
import { writeFileAtomic, fsyncDir } from '../disk/atomic-write.js';
import { KilnError } from '../errors.js';
import {
  CACHE_ARTIFACT_TYPE,
  CACHE_CONFIG_MEDIA_TYPE,
  CACHE_REF_NAME,
  OCI_INDEX_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  REF_NAME_ANNOTATION,
  type CacheConfigDocument,
} from './cache-layout.js';
import { LayoutBlobWriter } from './layout-blob-writer.js';
import type { CacheRecord, CacheStore } from './types.js';

export interface ExportCacheOptions {
  /** Where the layer blobs are read from (the build's content store; a layered one fetches lazily). */
  readonly content: ContentStore;
  /** The records to export; when omitted, every record of `cache`. */
  readonly records?: readonly CacheRecord[];
  readonly cache?: CacheStore;
  /** The layout directory (created if missing). */
  readonly dest: string;
  readonly signal?: AbortSignal;
}

export interface ExportCacheSummary {
  readonly manifest: Descriptor;
  readonly records: number;
  /** Keys of records left out because a layer blob is in neither the content store nor the layout. */
  readonly skipped: readonly string[];
  readonly blobsWritten: number;
  readonly bytesWritten: number;
}

export class CacheExportError extends KilnError {}

interface OciIndexJson {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

/** Records by key (the last one given wins), in key order so equal caches export to equal bytes. */
function uniqueRecords(records: readonly CacheRecord[]): CacheRecord[] {
  const byKey = new Map<string, CacheRecord>();
  for (const record of records) byKey.set(record.key, record);
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Which records a build exports: mode=max every record it used or made; mode=min only those whose layer
 * chain is a prefix of the final image's (the steps that produced the image itself), as in BuildKit.
 */
export function selectRecordsForExport(used: readonly CacheRecord[], mode: 'min' | 'max', finalLayers: readonly { readonly chainId: string }[]): CacheRecord[] {
  if (mode === 'max') return [...used];
  return used.filter((record) => record.layers.length <= finalLayers.length && record.layers.every((layer, i) => layer.chainId === finalLayers[i]!.chainId));
}

async function readExistingIndex(path: string): Promise<OciIndexJson | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as OciIndexJson;
    return Array.isArray(parsed.manifests) ? parsed : undefined;
  } catch (error) {
    throw new CacheExportError(`${path} exists but is not valid JSON; refusing to overwrite something that is not a cache export`, { cause: error });
  }
}

export async function exportCache(opts: ExportCacheOptions): Promise<ExportCacheSummary> {
  const given = opts.records ?? (opts.cache ? await opts.cache.list() : undefined);
  if (given === undefined) throw new CacheExportError('exportCache needs records or a cache store to export');
  const blobs = new LayoutBlobWriter(join(opts.dest, 'blobs', 'sha256'));
  await mkdir(blobs.blobDir, { recursive: true });
  await writeFileAtomic(join(opts.dest, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}\n');

  const exported: CacheRecord[] = [];
  const skipped: string[] = [];
  const layers = new Map<string, Descriptor>();
  let blobsWritten = 0;
  let bytesWritten = 0;
  for (const record of uniqueRecords(given)) {
    opts.signal?.throwIfAborted();
    let complete = true;
    for (const { blob } of record.layers) {
      if (layers.has(blob.digest) || (await blobs.has(blob.digest, blob.size))) continue;
      if (!(await opts.content.has(blob.digest))) {
        complete = false;
        break;
      }
      // Blobs first: index.json must never point at a manifest whose layers are not all in place.
      bytesWritten += await blobs.write(blob.digest, opts.content.read(blob.digest), opts.signal);
      blobsWritten++;
    }
    if (!complete) {
      skipped.push(record.key);
      continue;
    }
    for (const { blob } of record.layers) layers.set(blob.digest, { mediaType: blob.mediaType, digest: blob.digest, size: blob.size });
    // When this machine last used it is nobody else's business.
    const { lastUsedAt, ...portable } = record;
    exported.push(portable);
  }

  const config: CacheConfigDocument = { schemaVersion: 1, records: exported };
  const configBlob = await blobs.writeBytes(Buffer.from(JSON.stringify(config)), opts.signal);
  const manifestJson = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    artifactType: CACHE_ARTIFACT_TYPE,
    config: { mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: configBlob.digest, size: configBlob.size },
    layers: [...layers.values()],
  };
  const manifestBlob = await blobs.writeBytes(Buffer.from(JSON.stringify(manifestJson)), opts.signal);
  for (const written of [configBlob, manifestBlob]) {
    if (!written.written) continue;
    blobsWritten++;
    bytesWritten += written.size;
  }
  await fsyncDir(blobs.blobDir);

  const manifest: Descriptor = {
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    digest: manifestBlob.digest,
    size: manifestBlob.size,
    annotations: { [REF_NAME_ANNOTATION]: CACHE_REF_NAME },
  };
  const indexPath = join(opts.dest, 'index.json');
  const existing = await readExistingIndex(indexPath);
  // Other names in a shared layout are somebody else's; only "latest" is ours to replace.
  const others = (existing?.manifests ?? []).filter((entry) => entry.annotations?.[REF_NAME_ANNOTATION] !== CACHE_REF_NAME);
  const index = { schemaVersion: 2, mediaType: OCI_INDEX_MEDIA_TYPE, manifests: [...others, { ...manifest, artifactType: CACHE_ARTIFACT_TYPE }] };
  await writeFileAtomic(indexPath, `${JSON.stringify(index, null, 2)}\n`);
  return { manifest, records: exported.length, skipped, blobsWritten, bytesWritten };
}
