// The container executor: RUN steps, `kiln run` and file ops in Linux namespaces on overlay roots.
export { createExecutor } from './lazy-executor.js';
export type { ExecutorOptions } from './executor.js';
export { cleanupStaleExecState } from './stale-state.js';
export { DEFAULT_PATH } from './command-path.js';
export { swapLimitSupported } from './cgroup.js';
export { ContainerGoneError, probeContainer } from './health-probe.js';
export type { HealthProbeResult, HealthProbeTarget } from './health-probe.js';
export { ContainerStartError, ExecSetupError, FileOpError } from './errors.js';
export type { StartFailureStatus } from './errors.js';
export type {
  ClosableExecutor,
  ContainerHandle,
  ExecIO,
  ExecMount,
  Executor,
  ExitStatus,
  FileOpRunner,
  FileOpSpec,
  FileSource,
  NetworkMode,
  OverlayRootfs,
  ProcessSpec,
  RunSpec,
} from './types.js';
