// --cache-from type=local: reads the cache records of an exported layout; its blobs stay where they are until needed.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  CACHE_CONFIG_MEDIA_TYPE,
  CACHE_REF_NAME,
  CacheImportError,
  parseCacheConfig,
  REF_NAME_ANNOTATION,
} from './cache-layout.js';
import type { CacheRecord } from './types.js';

/** The layout has no index.json (never exported to): buildx warns and builds without it, and so can the caller. */
export class CacheNotFoundError extends CacheImportError {}

export interface ImportedCache {
  readonly records: Map<string, CacheRecord>;
  /** The layout's blobs/sha256: a read-only fallback for a LayeredContentStore. */
  readonly blobDir: string;
  /** Digest of the cache manifest that was read. */
  readonly manifestDigest: string;
}

interface DescriptorJson {
  readonly mediaType?: unknown;
  readonly digest?: unknown;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

async function readJsonBlob(blobDir: string, digest: unknown, what: string): Promise<unknown> {
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) throw new CacheImportError(`${what} has an invalid digest`);
  let bytes: Buffer;
  try {
    bytes = await readFile(join(blobDir, digest.slice(7)));
  } catch (error) {
    throw new CacheImportError(`${what} ${digest} is missing from ${blobDir}`, { cause: error });
  }
  const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (actual !== digest) throw new CacheImportError(`${what} ${digest} is corrupt (its bytes hash to ${actual})`);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new CacheImportError(`${what} ${digest} is not valid JSON`, { cause: error });
  }
}

export async function importCache(src: string): Promise<ImportedCache> {
  const dir = resolve(src);
  const indexPath = join(dir, 'index.json');
  let text: string;
  try {
    text = await readFile(indexPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CacheNotFoundError(`no cache at ${dir}: ${indexPath} does not exist`);
    throw new CacheImportError(`cannot read ${indexPath}`, { cause: error });
  }
  let index: { manifests?: unknown };
  try {
    index = JSON.parse(text) as { manifests?: unknown };
  } catch (error) {
    throw new CacheImportError(`${indexPath} is not valid JSON`, { cause: error });
  }
  const entries = Array.isArray(index.manifests) ? (index.manifests as DescriptorJson[]) : [];
  const entry = entries.find((candidate) => candidate.annotations?.[REF_NAME_ANNOTATION] === CACHE_REF_NAME);
  if (!entry) throw new CacheImportError(`${indexPath} has no manifest named "${CACHE_REF_NAME}"; is ${dir} a kiln cache export?`);
  const blobDir = join(dir, 'blobs', 'sha256');
  const manifest = (await readJsonBlob(blobDir, entry.digest, 'cache manifest')) as { config?: DescriptorJson };
  if (manifest.config?.mediaType !== CACHE_CONFIG_MEDIA_TYPE) {
    throw new CacheImportError(`${dir}: the "latest" manifest is not a kiln cache (config media type ${String(manifest.config?.mediaType)})`);
  }
  const config = parseCacheConfig(await readJsonBlob(blobDir, manifest.config.digest, 'cache config'), `cache config in ${dir}`);
  return {
    records: new Map(config.records.map((record) => [record.key, record])),
    blobDir,
    manifestDigest: entry.digest as string,
  };
}
