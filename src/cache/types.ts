// Seam of the build cache: cache key → the result a step produced.
import type { Descriptor } from '../content/types.js';

export interface CachedLayer {
  readonly blob: Descriptor;
  readonly diffId: string;
  readonly chainId: string;
}

/** What a cached step produced: its whole layer chain, and why it was keyed the way it was (for explanations). */
export interface CacheRecord {
  readonly key: string;
  readonly layers: readonly CachedLayer[];
  readonly createdAt: string;
  /** The step's display name when it was recorded. */
  readonly name: string;
  /** The labelled inputs of the key (parent chain, file checksums…), so a later miss can say what changed. */
  readonly inputs: Readonly<Record<string, string>>;
  /**
   * When a build last used the record (its creation, or its latest cache hit), as `list` reports it: prune's
   * `until` filter and `--keep-storage` order go by it, as BuildKit's go by last use. Not part of the stored JSON.
   */
  readonly lastUsedAt?: string;
}

export interface CacheStore {
  get(key: string): Promise<CacheRecord | undefined>;
  put(record: CacheRecord): Promise<void>;
  /** Records a cache hit on `key` (for prune's last-used order); nothing when the store does not hold it. */
  touch(key: string): Promise<void>;
  list(): Promise<CacheRecord[]>;
  remove(key: string): Promise<void>;
}
