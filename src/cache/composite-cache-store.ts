// The build's cache: local records first, then imported ones (read-only); remembers which records the build touched.
import type { CacheRecord, CacheStore } from './types.js';

export class CompositeCacheStore implements CacheStore {
  /** Records this build got from `get` or wrote with `put`, by key: what --cache-to mode=max exports. */
  private readonly touched = new Map<string, CacheRecord>();

  constructor(
    private readonly local: CacheStore,
    private readonly imported: readonly ReadonlyMap<string, CacheRecord>[],
  ) {}

  async get(key: string): Promise<CacheRecord | undefined> {
    let record = await this.local.get(key);
    for (const source of this.imported) {
      if (record) break;
      record = source.get(key);
    }
    if (record) this.touched.set(key, record);
    return record;
  }

  async put(record: CacheRecord): Promise<void> {
    await this.local.put(record);
    this.touched.set(record.key, record);
  }

  /** Local records only: imported ones are not this KILN_ROOT's to list or prune. */
  list(): Promise<CacheRecord[]> {
    return this.local.list();
  }

  async remove(key: string): Promise<void> {
    await this.local.remove(key);
    this.touched.delete(key);
  }

  /** The records this build looked up successfully or made, in the order first touched. */
  usedRecords(): CacheRecord[] {
    return [...this.touched.values()];
  }
}
