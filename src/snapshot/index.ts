export type { ActiveSnapshot, LayerRef, Snapshotter } from './types.js';
export { OverlaySnapshotter } from './overlay-snapshotter.js';
export { chainIdOf } from './chain-id.js';
