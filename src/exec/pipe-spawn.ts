// Starts a process with posix_spawn(3), a pipe on each of its first fds, and the builder's ends as Node streams.
// child_process.spawn forks the builder, page tables and all: ~3.5 ms of the builder's time for a 100 MB builder,
// once per RUN step. glibc's posix_spawn runs the child in the parent's memory until it execs (~0.25 ms).
import net from 'node:net';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { F, close, fcntl, pipeCloexec, spawnProcess, waitChild } from './syscalls.js';

/** Which way a child fd's pipe runs: `in` is read by the child (its stdin, a control fd), `out` is written by it. */
export type PipeDirection = 'in' | 'out';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface PipedChild {
  readonly pid: number;
  /** The builder's end of child fd i: Writable for an `in` pipe, Readable for an `out` pipe. */
  readonly stdio: readonly (Readable | Writable)[];
  /** True once the child has been reaped. */
  exited(): boolean;
  /** Settles once the child has exited and every `out` pipe is closed (like child_process's 'close'). */
  readonly closed: Promise<ChildExit>;
  /** Signals the child, unless it was already reaped (its pid may be someone else's by then). */
  kill(signal: NodeJS.Signals): void;
  /** Whether the child (its pipes, and the wait for its end) keeps the builder's event loop alive. */
  ref(): void;
  unref(): void;
}

export interface PipeSpawnOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** One entry per child fd, from 0 up. */
  readonly pipes: readonly PipeDirection[];
}

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(osConstants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);

/** How a raw wait status reads: an exit code, or the signal that killed the process. */
function decodeWaitStatus(status: number): ChildExit {
  const termSignal = status & 0x7f;
  if (termSignal === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: signalNames.get(termSignal) ?? null };
}

/**
 * A pipe end the child gets at a low fd must not be one of the fds it is dup2'ed onto before its turn comes:
 * moved above them (still close-on-exec). The builder's low fds are taken, so this is only a safeguard.
 */
function clearOfTargets(fd: number, targets: number): number {
  if (fd >= targets) return fd;
  const moved = fcntl(fd, F.DUPFD_CLOEXEC, targets);
  close(fd);
  return moved;
}

/** The pipes of a child about to be started: the builder's end and the child's end of each, indexed by child fd. */
export interface ChildPipes {
  readonly directions: readonly PipeDirection[];
  readonly ours: readonly number[];
  readonly theirs: readonly number[];
}

/** Makes one close-on-exec pipe per child fd; the child's ends sit above the fds they are dup2'ed onto. */
export function createChildPipes(directions: readonly PipeDirection[]): ChildPipes {
  if (!directions.includes('out')) throw new Error('a piped child needs an out pipe, whose closing tells its end');
  const ours: number[] = [];
  const theirs: number[] = [];
  try {
    for (const direction of directions) {
      const [readEnd, writeEnd] = pipeCloexec();
      ours.push(direction === 'in' ? writeEnd : readEnd);
      theirs.push(direction === 'in' ? readEnd : writeEnd);
      theirs[theirs.length - 1] = clearOfTargets(theirs.at(-1)!, directions.length);
    }
  } catch (error) {
    for (const fd of [...ours, ...theirs]) close(fd);
    throw error;
  }
  return { directions, ours, theirs };
}

/** Closes the child's ends (once it has its own copies, or could not be started). */
export function closeTheirEnds(pipes: ChildPipes): void {
  for (const fd of pipes.theirs) close(fd);
}

/** Closes every end: the child could not be started. */
export function closeAllEnds(pipes: ChildPipes): void {
  closeTheirEnds(pipes);
  for (const fd of pipes.ours) close(fd);
}

/**
 * Spawns `file` with `args` (argv[0] is `file`). Throws (SysCallError) when it cannot be started at all. Its end is
 * seen through its `out` pipes closing, so it must have at least one.
 */
export function spawnPiped(file: string, args: readonly string[], opts: PipeSpawnOptions): PipedChild {
  const pipes = createChildPipes(opts.pipes);
  let pid: number;
  try {
    const env = Object.entries(opts.env).map(([key, value]) => `${key}=${value}`);
    pid = spawnProcess(file, [file, ...args], env, { setsid: false, cwd: opts.cwd, dup2: pipes.theirs.map((fd, target) => [fd, target] as const) });
  } catch (error) {
    closeAllEnds(pipes);
    throw error;
  }
  closeTheirEnds(pipes);
  return adoptChild(pid, pipes);
}

/**
 * Watches child `pid`, started by someone with the child's ends of `pipes` (which are closed by now): the builder's
 * ends become Node streams, and the child is reaped once its `out` pipes close. It must be the builder's child.
 */
export function adoptChild(pid: number, pipes: ChildPipes): PipedChild {
  return watch(pid, pipes.directions, pipes.ours);
}

function watch(pid: number, directions: readonly PipeDirection[], fds: readonly number[]): PipedChild {
  const stdio = fds.map((fd, i) =>
    directions[i] === 'in' ? new net.Socket({ fd, readable: false, writable: true }) : new net.Socket({ fd, readable: true, writable: false }),
  );
  let exit: ChildExit | undefined;
  let held = true;
  let retry: NodeJS.Timeout | NodeJS.Immediate | undefined;
  let attempts = 0;
  const outputs = stdio.filter((_, i) => directions[i] === 'out');
  const closed = new Promise<ChildExit>((resolve, reject) => {
    // The child holds its `out` pipes until it exits, so once they are all closed its end is at most moments away.
    const reap = (): void => {
      retry = undefined;
      try {
        const status = waitChild(pid);
        if (status === null) {
          // Its pipes close a moment before it becomes a zombie: try again on the next turns of the event loop,
          // then every millisecond (a wait the step pays, so not a timer from the start).
          retry = ++attempts < 100 ? setImmediate(reap) : setTimeout(reap, 1);
          if (!held) retry.unref();
          return;
        }
        exit = decodeWaitStatus(status);
        // As child_process does: nothing more can be written to a child that is gone.
        stdio.forEach((pipe, i) => {
          if (directions[i] === 'in') pipe.destroy();
        });
        resolve(exit);
      } catch (error) {
        reject(error);
      }
    };
    let open = outputs.length;
    for (const pipe of outputs) {
      pipe.once('close', () => {
        if (--open === 0) reap();
      });
    }
  });
  return {
    pid,
    stdio,
    exited: () => exit !== undefined,
    closed,
    kill(signal) {
      if (exit === undefined) process.kill(pid, signal);
    },
    ref() {
      held = true;
      for (const pipe of stdio) pipe.ref();
      retry?.ref();
    },
    unref() {
      held = false;
      for (const pipe of stdio) pipe.unref();
      retry?.unref();
    },
  };
}
