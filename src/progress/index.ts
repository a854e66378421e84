export type { ProgressEvent, ProgressSink } from './types.js';
export { PlainRenderer } from './plain-renderer.js';
export { JsonRenderer } from './json-renderer.js';
export { TtyRenderer, type TtyOutput, type TtyRendererOptions } from './tty-renderer.js';
export { graphToDot, type VertexState } from './graph-dot.js';
