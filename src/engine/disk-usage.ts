// `kiln du`: KILN_ROOT's storage by kind, and how much of it `kiln prune --all` could reclaim.
import type { KilnRoot } from './kiln-root.js';
import { heldByRecords, takeInventory, type StorageInventory } from './storage-inventory.js';

export type UsageCategory =
  | 'blobs-image'
  | 'blobs-cache'
  | 'blobs-unreferenced'
  | 'snapshots-image'
  | 'snapshots-cache'
  | 'snapshots-unreferenced'
  | 'cache-records'
  | 'cache-mounts';

export interface UsageLine {
  readonly category: UsageCategory;
  readonly count: number;
  readonly bytes: number;
  /** What `kiln prune --all` would free when no build is running: everything not held by a tagged image. */
  readonly reclaimable: number;
}

export interface DiskUsage {
  readonly lines: readonly UsageLine[];
  readonly totalBytes: number;
  readonly reclaimableBytes: number;
}

function split(
  items: ReadonlyMap<string, number>,
  byImage: ReadonlySet<string>,
  byCache: ReadonlySet<string>,
  names: readonly [UsageCategory, UsageCategory, UsageCategory],
): UsageLine[] {
  const sums = names.map((category) => ({ category, count: 0, bytes: 0 }));
  for (const [id, bytes] of items) {
    const sum = byImage.has(id) ? sums[0]! : byCache.has(id) ? sums[1]! : sums[2]!;
    sum.count++;
    sum.bytes += bytes;
  }
  return sums.map((sum, i) => ({ ...sum, reclaimable: i === 0 ? 0 : sum.bytes }));
}

/** Classifies an inventory: image-held before cache-held, so each item is counted once. */
export function usageOf(inventory: StorageInventory): DiskUsage {
  const cache = heldByRecords(inventory.records.map((entry) => entry.record));
  const recordBytes = inventory.records.reduce((sum, entry) => sum + entry.bytes, 0);
  const mountBytes = [...inventory.mounts.values()].reduce((sum, bytes) => sum + bytes, 0);
  const lines: UsageLine[] = [
    ...split(inventory.blobs, inventory.images.blobs, cache.blobs, ['blobs-image', 'blobs-cache', 'blobs-unreferenced']),
    ...split(inventory.snapshots, inventory.images.chainIds, cache.chainIds, ['snapshots-image', 'snapshots-cache', 'snapshots-unreferenced']),
    { category: 'cache-records', count: inventory.records.length, bytes: recordBytes, reclaimable: recordBytes },
    { category: 'cache-mounts', count: inventory.mounts.size, bytes: mountBytes, reclaimable: mountBytes },
  ];
  return {
    lines,
    totalBytes: lines.reduce((sum, line) => sum + line.bytes, 0),
    reclaimableBytes: lines.reduce((sum, line) => sum + line.reclaimable, 0),
  };
}

export async function measureDiskUsage(root: KilnRoot): Promise<DiskUsage> {
  return usageOf(await takeInventory(root));
}
