// A census of KILN_ROOT's storage: blobs, committed snapshots, cache records and cache mounts, with their sizes.
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CacheRecord } from '../cache/types.js';
import { dirSize } from './dir-size.js';
import { heldByTaggedImages, type HeldByImages } from './image-references.js';
import type { KilnRoot } from './kiln-root.js';

export interface RecordEntry {
  readonly record: CacheRecord;
  /** Size of the record's own file. */
  readonly bytes: number;
}

export interface StorageInventory {
  /** digest → bytes */
  readonly blobs: ReadonlyMap<string, number>;
  /** chainID → bytes of the committed snapshot */
  readonly snapshots: ReadonlyMap<string, number>;
  readonly records: readonly RecordEntry[];
  /** cache mount directory name → bytes */
  readonly mounts: ReadonlyMap<string, number>;
  readonly images: HeldByImages;
}

/** Blobs and snapshots the given records refer to. */
export function heldByRecords(records: Iterable<CacheRecord>): HeldByImages {
  const held: HeldByImages = { blobs: new Set(), chainIds: new Set() };
  for (const record of records) {
    for (const layer of record.layers) {
      held.blobs.add(layer.blob.digest);
      held.chainIds.add(layer.chainId);
    }
  }
  return held;
}

async function sizeOrNothing(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    // Removed since it was listed: not part of the census.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function takeInventory(root: KilnRoot): Promise<StorageInventory> {
  const images = await heldByTaggedImages(root.images, root.content);
  const blobs = new Map<string, number>();
  for (const digest of await root.content.list()) {
    const bytes = await sizeOrNothing(root.content.pathOf(digest));
    if (bytes !== undefined) blobs.set(digest, bytes);
  }
  const snapshots = new Map<string, number>();
  for (const chainId of await root.snapshots.list()) snapshots.set(chainId, await dirSize(dirname(root.snapshots.fsDirOf(chainId))));
  const records: RecordEntry[] = [];
  for (const record of await root.cache.list()) {
    const bytes = await sizeOrNothing(join(root.cache.root, `${record.key.replace(/^sha256:/, '')}.json`));
    if (bytes !== undefined) records.push({ record, bytes });
  }
  const mounts = new Map<string, number>();
  for (const name of await readdir(root.cacheMountsDir)) mounts.set(name, await dirSize(join(root.cacheMountsDir, name)));
  return { blobs, snapshots, records, mounts, images };
}
