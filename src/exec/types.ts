// Seam between the solver / CLI and the container executor.
import type { Readable, Writable } from 'node:stream';
import type { FileAction } from '../llb/types.js';

/** An overlay root: lowers top-first (read-only), plus a fresh upper and work dir on the same filesystem. */
export interface OverlayRootfs {
  readonly kind: 'overlay';
  readonly lowerDirs: readonly string[];
  readonly upperDir: string;
  readonly workDir: string;
}

export type NetworkMode = 'host' | 'none';

/** A mount added inside the container root (RUN --mount, kiln run -v, secrets). `target` is resolved in the container root. */
export type ExecMount =
  | { readonly kind: 'bind'; readonly source: string; readonly target: string; readonly readonly: boolean }
  | { readonly kind: 'overlay-ro'; readonly lowerDirs: readonly string[]; readonly target: string }
  | { readonly kind: 'overlay-rw-discard'; readonly lowerDirs: readonly string[]; readonly upperDir: string; readonly workDir: string; readonly target: string }
  | { readonly kind: 'tmpfs'; readonly target: string; readonly sizeBytes?: number }
  | { readonly kind: 'file'; readonly source: string; readonly target: string; readonly mode: number; readonly uid: number; readonly gid: number };

export interface ProcessSpec {
  readonly args: readonly string[];
  /** "K=V" strings, exactly the container's environment. */
  readonly env: readonly string[];
  /** Absolute path inside the container; created if missing. */
  readonly cwd: string;
  /** "", "name", "uid", "name:group", "uid:gid", resolved in the container's /etc/passwd and /etc/group. */
  readonly user: string;
  /** Run on a pseudo-terminal (docker run -t): stdout and stderr both go to io.stdout. */
  readonly tty?: boolean;
  /** docker run --init: a minimal PID 1 that forwards signals to the command and reaps zombies. */
  readonly init?: boolean;
}

/** cgroup limits for `kiln run` (docker run --memory, --cpus, --pids-limit). */
export interface ResourceLimits {
  readonly memoryBytes?: number;
  /** Memory plus swap (docker's --memory-swap; -1 unlimited); applied only where the kernel accounts swap. */
  readonly memorySwapBytes?: number;
  /** CPUs' worth of time per period (cpu.cfs_quota_us / cpu.cfs_period_us), e.g. 0.5. */
  readonly cpus?: number;
  readonly pids?: number;
}

export interface RunSpec {
  readonly rootfs: OverlayRootfs;
  readonly process: ProcessSpec;
  readonly hostname: string;
  readonly network: NetworkMode;
  readonly mounts: readonly ExecMount[];
  readonly readonlyRootfs?: boolean;
  /** 'insecure' lifts the default capability / masking restrictions (RUN --security=insecure). */
  readonly security?: 'sandbox' | 'insecure';
  readonly limits?: ResourceLimits;
}

export interface ExecIO {
  readonly stdin?: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Initial terminal size when process.tty is set. */
  readonly ttySize?: TerminalSize;
  /** Called once the command is about to start, with a handle to signal (or resize) it. */
  readonly onStart?: (handle: ContainerHandle) => void;
}

export interface TerminalSize {
  readonly rows: number;
  readonly columns: number;
}

/** A running container, for `kiln run`: signal forwarding and terminal resizes. */
export interface ContainerHandle {
  /** PID 1 of the container as the host sees it. */
  readonly pid: number;
  /**
   * Sends a signal to the container's PID 1. Like Docker, a PID 1 without a handler for it ignores every
   * signal but SIGKILL; with process.init the init forwards it to the command.
   */
  kill(signal: NodeJS.Signals): void;
  /** Resizes the container's terminal (process.tty only; a no-op otherwise). */
  resize(size: TerminalSize): void;
}

/** How the container's process ended. `code` is the shell-style status: exit code, or 128+N for signal N. */
export interface ExitStatus {
  readonly code: number;
  readonly signal?: string;
}

export interface Executor {
  /** Runs one process in new namespaces on the rootfs; resolves when every process of the container is gone and every mount released. */
  run(spec: RunSpec, io: ExecIO, signal: AbortSignal): Promise<ExitStatus>;
}

/** The executor a build or `kiln run` owns: `close` ends the inits it keeps started ahead, once nothing more will run. */
export interface ClosableExecutor extends Executor, FileOpRunner {
  close(): Promise<void>;
}

/** A source tree for file actions: a host directory (build context) or a read-only overlay of a snapshot chain. */
export type FileSource =
  | { readonly kind: 'dir'; readonly dir: string; readonly exclude: readonly string[] }
  | { readonly kind: 'overlay'; readonly lowerDirs: readonly string[]; readonly exclude: readonly string[] };

/** COPY / ADD / WORKDIR file actions, applied to `rootfs` inside a private mount namespace. */
export interface FileOpSpec {
  readonly rootfs: OverlayRootfs;
  /** Indexed by FileAction.source; index 0 (the destination itself) is undefined. */
  readonly sources: readonly (FileSource | undefined)[];
  readonly actions: readonly FileAction[];
}

export interface FileOpRunner {
  /** Applies the actions; the result is left in rootfs.upperDir. Nothing is mounted on the host. */
  runFileOps(spec: FileOpSpec, signal: AbortSignal): Promise<void>;
}
