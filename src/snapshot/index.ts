export type { ActiveSnapshot, LayerRef, Snapshotter } from './types.js';
export { OverlaySnapshotter } from './overlay-snapshotter.js';
export { chainIdOf } from './chain-id.js';
export { applyLayer, LayerApplyError, readTar, TarFormatError, decompressed } from './layer-apply.js';
export type { ApplyLayerOptions, TarEntry, TarEntryType, TarHeader } from './layer-apply.js';
