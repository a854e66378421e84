export type { CacheRecord, CacheStore, CachedLayer } from './types.js';
export { cacheKeyOf } from './cache-key.js';
export { FileCacheStore } from './file-cache-store.js';
