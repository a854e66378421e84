export type { ResolvedBaseImage, SolveOptions, SolverDeps, VertexResult } from './types.js';
export { Solver } from './solver.js';
export { BuildStepError, StepFailedError, BuildCancelledError } from './errors.js';
