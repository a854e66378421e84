export type { CacheRecord, CacheStore, CachedLayer } from './types.js';
export { cacheKeyOf } from './cache-key.js';
export { FileCacheStore } from './file-cache-store.js';
export { checksumContextSelection, xxhashFile } from './context-checksum.js';
export type { ContextChecksumOptions, FileHasher } from './context-checksum.js';
export { StatCache } from './stat-cache.js';
export type { StatCacheOptions } from './stat-cache.js';
