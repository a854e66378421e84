export type { ProgressEvent, ProgressSink } from './types.js';
export { PlainRenderer } from './plain-renderer.js';
export { JsonRenderer } from './json-renderer.js';
