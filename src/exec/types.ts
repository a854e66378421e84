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
  readonly tty?: boolean;
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
}

export interface ExecIO {
  readonly stdin?: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
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
