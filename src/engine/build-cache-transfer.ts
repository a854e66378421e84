// A build's view of --cache-from / --cache-to: which stores the solver uses, and the export once the image is solved.
import { exportCache, selectRecordsForExport, type ExportCacheSummary } from '../cache/cache-export.js';
import { CacheNotFoundError, importCache } from '../cache/cache-import.js';
import type { CacheOption } from '../cache/cache-option.js';
import { CompositeCacheStore } from '../cache/composite-cache-store.js';
import type { CacheRecord } from '../cache/types.js';
import { LayeredContentStore } from '../content/layered-content-store.js';
import type { ContentStore } from '../content/types.js';
import { OverlaySnapshotter } from '../snapshot/overlay-snapshotter.js';
import type { LayerRef, Snapshotter } from '../snapshot/types.js';
import type { KilnRoot } from './kiln-root.js';

export interface BuildCacheTransfer {
  /** Pass to the solver (and to writeLayer): sees imported blobs, fetches them into KILN_ROOT when read. */
  readonly content: ContentStore;
  /** Pass to the solver: unpacks layers from `content`, so an imported cache hit can be a parent. */
  readonly snapshots: Snapshotter;
  /** Pass to the solver: local records first, then imported ones; remembers what the build used. */
  readonly cache: CompositeCacheStore;
  /** One line per --cache-from that holds no cache yet (buildx warns and builds without it). */
  readonly warnings: readonly string[];
  /**
   * Call after the solve and before writing the image: copies the final layers into KILN_ROOT (the image must not
   * depend on an imported directory), keeps the imported records it used whose blobs are now local as local
   * records (the next build hits them without --cache-from), then writes every --cache-to.
   */
  finish(finalLayers: readonly LayerRef[], signal: AbortSignal): Promise<readonly ExportCacheSummary[]>;
}

export async function openBuildCacheTransfer(
  root: KilnRoot,
  opts: { readonly cacheFrom: readonly CacheOption[]; readonly cacheTo: readonly CacheOption[] },
): Promise<BuildCacheTransfer> {
  const imported: Map<string, CacheRecord>[] = [];
  const blobDirs: string[] = [];
  const warnings: string[] = [];
  for (const from of opts.cacheFrom) {
    if (from.src === undefined) continue;
    try {
      const cache = await importCache(from.src);
      imported.push(cache.records);
      blobDirs.push(cache.blobDir);
    } catch (error) {
      if (!(error instanceof CacheNotFoundError)) throw error;
      warnings.push(`--cache-from type=local,src=${from.src}: ${error.message}; building without it`);
    }
  }
  const layered = blobDirs.length > 0 ? new LayeredContentStore(root.content, blobDirs) : undefined;
  const content: ContentStore = layered ?? root.content;
  // The root's snapshotter reads only the local store; a second one over the same directories reads through the layers.
  const snapshots: Snapshotter = layered ? new OverlaySnapshotter(root.snapshots.root, layered) : root.snapshots;
  const cache = new CompositeCacheStore(root.cache, imported);
  return {
    content,
    snapshots,
    cache,
    warnings,
    async finish(finalLayers, signal) {
      if (layered) for (const layer of finalLayers) await layered.ensureLocal(layer.blob.digest);
      if (imported.length > 0) await keepImportedHits(root, await cache.usedRecords());
      const summaries: ExportCacheSummary[] = [];
      for (const to of opts.cacheTo) {
        if (to.dest === undefined) continue;
        const records = selectRecordsForExport(await cache.usedRecords(), to.mode, finalLayers);
        summaries.push(await exportCache({ content, records, dest: to.dest, signal }));
      }
      return summaries;
    },
  };
}

/** Imported records the build used become local ones when all their blobs are local; others would only be misses. */
async function keepImportedHits(root: KilnRoot, used: readonly CacheRecord[]): Promise<void> {
  for (const record of used) {
    if (await root.cache.get(record.key)) continue;
    const local = await Promise.all(record.layers.map((layer) => root.content.has(layer.blob.digest)));
    // Used by this very build: that is its last use here, whenever it was created elsewhere.
    if (local.every(Boolean)) await root.cache.put({ ...record, lastUsedAt: new Date().toISOString() });
  }
}
