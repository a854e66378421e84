// `kiln prune`: removes cache records, then every blob and snapshot neither a tagged image nor a remaining record holds.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheRecord } from '../cache/types.js';
import { acquirePruneLock, type LeaseInfo } from './build-lease.js';
import { heldByTaggedImages } from './image-references.js';
import type { KilnRoot } from './kiln-root.js';
import { heldByRecords, takeInventory, type RecordEntry, type StorageInventory } from './storage-inventory.js';

export interface PruneOptions {
  /**
   * Without `all`, records whose result is (the top of) a tagged image's layer chain are kept: they hold no data the
   * image does not already hold, and they make rebuilding that image free. With `all`, every record matching the
   * filters goes, and so do the RUN --mount=type=cache directories.
   */
  readonly all?: boolean;
  /** Remove records least recently used first only until the data held by cache records is at most this many bytes. */
  readonly keepStorage?: number;
  /** Only records last used at least this long ago (--filter until=DURATION). */
  readonly olderThanMs?: number;
  /** "Now" for the until filter (ms since the epoch). */
  readonly now?: number;
}

export interface PruneReport {
  readonly removedRecords: readonly CacheRecord[];
  readonly removedBlobs: number;
  readonly removedSnapshots: number;
  readonly removedMounts: number;
  readonly reclaimedBytes: number;
  /** Builds that were running: while any runs, prune removes records only and keeps every blob, snapshot and mount. */
  readonly runningBuilds: readonly LeaseInfo[];
}

function topChainId(record: CacheRecord): string | undefined {
  return record.layers.at(-1)?.chainId;
}

/** Bytes held only by cache records: their files, and blobs and snapshots no tagged image holds. */
function cacheHeldBytes(inventory: StorageInventory, counts: { blobs: Map<string, number>; chainIds: Map<string, number> }): number {
  let total = inventory.records.reduce((sum, entry) => sum + entry.bytes, 0);
  for (const digest of counts.blobs.keys()) if (!inventory.images.blobs.has(digest)) total += inventory.blobs.get(digest) ?? 0;
  for (const chainId of counts.chainIds.keys()) if (!inventory.images.chainIds.has(chainId)) total += inventory.snapshots.get(chainId) ?? 0;
  return total;
}

function countReferences(records: readonly RecordEntry[]): { blobs: Map<string, number>; chainIds: Map<string, number> } {
  const counts = { blobs: new Map<string, number>(), chainIds: new Map<string, number>() };
  for (const { record } of records) {
    const held = heldByRecords([record]);
    for (const digest of held.blobs) counts.blobs.set(digest, (counts.blobs.get(digest) ?? 0) + 1);
    for (const chainId of held.chainIds) counts.chainIds.set(chainId, (counts.chainIds.get(chainId) ?? 0) + 1);
  }
  return counts;
}

/** When a record was last used (a cache hit), or created: BuildKit's prune goes by last use too. */
function lastUsedMs(record: CacheRecord): number {
  return Date.parse(record.lastUsedAt ?? record.createdAt);
}

/** The records a prune removes, least recently used first; pure, so the policy is testable without a disk. */
export function chooseRecordsToPrune(inventory: StorageInventory, opts: PruneOptions): RecordEntry[] {
  const now = opts.now ?? Date.now();
  const candidates = inventory.records
    .filter(({ record }) => opts.olderThanMs === undefined || lastUsedMs(record) <= now - opts.olderThanMs)
    .filter(({ record }) => {
      const top = topChainId(record);
      return opts.all === true || top === undefined || !inventory.images.chainIds.has(top);
    })
    .sort((a, b) => lastUsedMs(a.record) - lastUsedMs(b.record));
  if (opts.keepStorage === undefined) return candidates;

  const counts = countReferences(inventory.records);
  let held = cacheHeldBytes(inventory, counts);
  const chosen: RecordEntry[] = [];
  for (const entry of candidates) {
    if (held <= opts.keepStorage) break;
    chosen.push(entry);
    held -= entry.bytes;
    const released = heldByRecords([entry.record]);
    for (const digest of released.blobs) {
      const left = counts.blobs.get(digest)! - 1;
      counts.blobs.set(digest, left);
      if (left === 0 && !inventory.images.blobs.has(digest)) held -= inventory.blobs.get(digest) ?? 0;
    }
    for (const chainId of released.chainIds) {
      const left = counts.chainIds.get(chainId)! - 1;
      counts.chainIds.set(chainId, left);
      if (left === 0 && !inventory.images.chainIds.has(chainId)) held -= inventory.snapshots.get(chainId) ?? 0;
    }
  }
  return chosen;
}

export async function pruneKilnRoot(root: KilnRoot, opts: PruneOptions = {}): Promise<PruneReport> {
  const inventory = await takeInventory(root);
  const doomed = chooseRecordsToPrune(inventory, opts);
  let reclaimedBytes = 0;
  // Removing a record is always safe: a build that already read it holds a lease, which keeps its blobs below.
  for (const entry of doomed) {
    await root.cache.remove(entry.record.key);
    reclaimedBytes += entry.bytes;
  }
  const removedRecords = doomed.map((entry) => entry.record);
  const lock = await acquirePruneLock(root.root);
  try {
    if (lock.liveBuilds.length > 0) {
      return { removedRecords, removedBlobs: 0, removedSnapshots: 0, removedMounts: 0, reclaimedBytes, runningBuilds: lock.liveBuilds };
    }
    // Read again under the lock: images tagged and records written since the census are kept too.
    const images = await heldByTaggedImages(root.images, root.content);
    const records = heldByRecords(await root.cache.list());
    let removedBlobs = 0;
    let removedSnapshots = 0;
    let removedMounts = 0;
    for (const [chainId, bytes] of inventory.snapshots) {
      if (images.chainIds.has(chainId) || records.chainIds.has(chainId)) continue;
      await root.snapshots.remove(chainId);
      removedSnapshots++;
      reclaimedBytes += bytes;
    }
    for (const [digest, bytes] of inventory.blobs) {
      if (images.blobs.has(digest) || records.blobs.has(digest)) continue;
      await root.content.remove(digest);
      removedBlobs++;
      reclaimedBytes += bytes;
    }
    if (opts.all === true) {
      for (const [name, bytes] of inventory.mounts) {
        await rm(join(root.cacheMountsDir, name), { recursive: true, force: true });
        removedMounts++;
        reclaimedBytes += bytes;
      }
    }
    return { removedRecords, removedBlobs, removedSnapshots, removedMounts, reclaimedBytes, runningBuilds: [] };
  } finally {
    await lock.release();
  }
}
