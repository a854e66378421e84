export type { ContentStore, Descriptor, ImageStore } from './types.js';
export { FileContentStore, DigestMismatchError } from './file-content-store.js';
export { FileImageStore, normaliseImageName } from './file-image-store.js';
