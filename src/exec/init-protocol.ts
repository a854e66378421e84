// What the builder hands the container init (a JSON spec file) and what the init reports back (JSON lines on fd 3).
import type { FileAction } from '../llb/types.js';
import type { ExecMount, NetworkMode, OverlayRootfs, ProcessSpec, TerminalSize } from './types.js';

/** fd numbers in the init, fixed by the builder's spawn stdio array. */
export const FD = {
  /** unshare's and the init's own stderr: diagnostics only, never the command's output. */
  diag: 2,
  /** JSON lines from the init; closes (CLOEXEC) when the command is exec'd. */
  status: 3,
  /** Becomes the command's stderr (dup2 onto 2) just before execve. */
  cmdStderr: 4,
  /** Builder → init: one byte acknowledges that the builder took its copy of the pty master (process.tty only). */
  control: 5,
} as const;

/** Host files bind-mounted read-only over the container's /etc entries. */
export interface EtcFiles {
  readonly hosts: string;
  readonly resolvConf: string;
  readonly hostname: string;
}

interface InitSpecBase {
  readonly rootfs: OverlayRootfs;
  /** Bottom lower layer holding empty mount targets (etc/hosts, proc/, ...), so the upper dir stays clean. */
  readonly stubDir: string;
  /** An empty directory, the stand-in layer when a read-only view has no layers at all. */
  readonly emptyDir: string;
  /** Empty host dir where the rootfs overlay is mounted (inside the init's private mount namespace only). */
  readonly mergedDir: string;
}

export interface ContainerInitSpec extends InitSpecBase {
  readonly mode: 'container';
  readonly process: ProcessSpec;
  readonly hostname: string;
  readonly network: NetworkMode;
  readonly mounts: readonly ExecMount[];
  readonly readonlyRootfs: boolean;
  /** False: the command's fd 0 is /dev/null (the builder's stdin pipe just closes). */
  readonly stdin: boolean;
  readonly insecure: boolean;
  readonly etc: EtcFiles;
  /** Empty host dir where a private tmpfs holds the copies of `file` mounts (secrets) with their owner and mode. */
  readonly filesDir: string;
  /** Empty host dir for the read-only probe of the image that finds missing mount targets. */
  readonly probeDir: string;
  /** Empty host dir that becomes the per-step layer of missing mount targets (below the image, above the stub). */
  readonly mountpointLayerDir: string;
  /** cgroup.procs files of resource limits, joined just before the command (the init joined the devices policy at start). */
  readonly cgroupProcs: readonly string[];
  /** True when a devices cgroup denies raw device access, so CAP_MKNOD can stay as in Docker's default set. */
  readonly devicesCgroup: boolean;
  /** Initial terminal size with process.tty. */
  readonly ttySize?: TerminalSize;
}

/** A file-op source as the init mounts it: `mountDir` is the empty host dir it is mounted on. */
export type InitFileSource =
  | { readonly kind: 'dir'; readonly dir: string; readonly exclude: readonly string[]; readonly mountDir: string }
  | { readonly kind: 'overlay'; readonly lowerDirs: readonly string[]; readonly exclude: readonly string[]; readonly mountDir: string };

export interface FileInitSpec extends InitSpecBase {
  readonly mode: 'file';
  /** null where the op has no source (index 0, the destination itself): JSON has no undefined. */
  readonly sources: readonly (InitFileSource | null)[];
  readonly actions: readonly FileAction[];
}

export type InitSpec = ContainerInitSpec | FileInitSpec;

/** One line on the status pipe. */
export type StatusMessage =
  /** The pty master is fd `fd` of host process `pid`: the builder copies it (pidfd_getfd) and acks on FD.control. */
  | { readonly kind: 'pty'; readonly pid: number; readonly fd: number }
  /** The init has loaded everything and now waits for its spec on the control fd. */
  | { readonly kind: 'waiting' }
  /** Setup is done and the command is about to be exec'd; `pid` is PID 1 as the host sees it. */
  | { readonly kind: 'ready'; readonly pid: number }
  /** The container could not start its command (125 setup, 126 not executable, 127 not found). */
  | { readonly kind: 'start-failed'; readonly status: 125 | 126 | 127; readonly message: string }
  /** A file action failed: the error's class name and message, to be rethrown by the builder. */
  | { readonly kind: 'file-failed'; readonly name: string; readonly message: string };

export function parseStatusLines(text: string): StatusMessage[] {
  const out: StatusMessage[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    out.push(JSON.parse(line) as StatusMessage);
  }
  return out;
}

/** The init's environment variable holding the nice value to take back once loaded: the builder's own, so that
 * `nice kiln build` runs its steps niced (a spare init starts at the lowest priority). */
export const INIT_NICE_VAR = 'KILN_NICE';
