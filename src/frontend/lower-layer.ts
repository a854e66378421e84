// History steps for instructions that change the filesystem: the step's layer is the diff made by its vertex.
import type { Vertex } from '../llb/index.js';
import type { StageState } from './lower-state.js';

export function commitLayerStep(st: StageState, createdBy: string, vertex: Vertex): void {
  st.history.push({ createdBy, comment: 'buildkit.dockerfile.v0', layerOf: vertex.digest });
}
