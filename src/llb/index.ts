export * from './types.js';
export { canonicalJson, sha256Digest, opDigest, makeVertex } from './digest.js';
