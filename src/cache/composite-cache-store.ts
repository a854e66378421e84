// The build's cache: local records first, then imported ones (read-only); remembers which records the build touched.
import type { CacheRecord, CacheStore } from './types.js';

export class CompositeCacheStore implements CacheStore {
  /** Records this build got from `get` or wrote with `put`, by key: what --cache-to mode=max exports. */
  private readonly touched = new Map<string, CacheRecord>();
  /** Every key looked up or written, in order; a miss may be filled later by another build sharing the step. */
  private readonly keys = new Set<string>();

  constructor(
    private readonly local: CacheStore,
    private readonly imported: readonly ReadonlyMap<string, CacheRecord>[],
  ) {}

  async get(key: string): Promise<CacheRecord | undefined> {
    this.keys.add(key);
    const record = await this.lookup(key);
    if (record) this.touched.set(key, record);
    return record;
  }

  private async lookup(key: string): Promise<CacheRecord | undefined> {
    const record = await this.local.get(key);
    if (record) return record;
    for (const source of this.imported) {
      const imported = source.get(key);
      if (imported) return imported;
    }
    return undefined;
  }

  async put(record: CacheRecord): Promise<void> {
    await this.local.put(record);
    this.keys.add(record.key);
    this.touched.set(record.key, record);
  }

  /** Imported records are not this KILN_ROOT's: only a local one records the use. */
  touch(key: string): Promise<void> {
    return this.local.touch(key);
  }

  /** Local records only: imported ones are not this KILN_ROOT's to list or prune. */
  list(): Promise<CacheRecord[]> {
    return this.local.list();
  }

  async remove(key: string): Promise<void> {
    await this.local.remove(key);
    this.touched.delete(key);
    this.keys.delete(key);
  }

  /**
   * The records of every key this build looked up or wrote, in first-use order. A key that missed is read again:
   * when another build in the same engine ran that step for us, its record exists by now.
   */
  async usedRecords(): Promise<CacheRecord[]> {
    const records: CacheRecord[] = [];
    for (const key of this.keys) {
      const record = this.touched.get(key) ?? (await this.lookup(key));
      if (record) records.push(record);
    }
    return records;
  }
}
