// What the builder asks of the fork server (one JSON line on its stdin) and what it answers (one line on its stdout).

/** The init entry's first argument that makes it a fork server instead of an init. */
export const FORK_SERVER_ARG = '--fork-server';

/**
 * Node flags of the fork server. `--single-threaded` keeps V8 from handing work to helper threads, which a cloned
 * child does not have (it would wait for them forever); `--expose-gc` lets it empty the young generation before a clone;
 * `--no-lazy` compiles the whole bundle once, in the server (and its code cache), where lazy compilation would compile
 * the step's code again in every clone (~2 ms of CPU per step, measured over 50-step builds).
 */
export const FORK_SERVER_NODE_FLAGS: readonly string[] = ['--single-threaded', '--expose-gc', '--no-lazy'];

export interface ForkRequest {
  /** The builder's fds that become the child's fds 0, 1, ... (the fork server copies them with pidfd_getfd). */
  readonly fds: readonly number[];
  /** clone(2) namespace flags. */
  readonly flags: number;
  /** The child's working directory: its step directory. */
  readonly cwd: string;
  /** cgroup.procs files the child joins as it starts (the step's devices policy). */
  readonly cgroupProcs: readonly string[];
}

export interface ForkReply {
  /** The child, a child of the builder (CLONE_PARENT); undefined when `error` says why there is none. */
  readonly pid?: number;
  readonly error?: string;
  /** Children killed at once because their copy of the heap may be incomplete: the builder reaps them. */
  readonly discarded: readonly number[];
}
