export * from './types.js';
export { canonicalJson, sha256Digest, opDigest, makeVertex, renameVertex, type VertexMeta } from './digest.js';
