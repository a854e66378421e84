// Exporter API: layers out of overlay upper dirs, images (config + manifest), and image archives in and out.
export { writeLayerFromUpperDir } from './layer-diff.js';
export { storeLayer, type LayerBlobOptions, type StoredLayer } from './layer-blob.js';
export { importRootfs, ImportError } from './import-rootfs.js';
export { writeImage, imageCreatedTime, ImageWriteError, type ImageInput } from './image-writer.js';
export { readImage, ImageReadError, type ImageRead } from './image-reader.js';
export { writeOciArchive } from './oci-archive.js';
export { writeDockerArchive } from './docker-archive.js';
export { loadArchive, type LoadedImage } from './archive-load.js';
export { ArchiveError, type NamedImage } from './archive-layout.js';
export { packTar, encodeTarHeader, TarWriteError, type TarWriteEntry } from './tar-writer.js';
export { walkTree, type WalkMode } from './tree-walk.js';
export type { ImageLayer, OciHistory, OciImageConfig, OciIndex, OciManifest } from './oci-types.js';
export * from './media-types.js';
