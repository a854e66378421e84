// Builder side of the fork server (fork-server.ts): starts it, asks it for cloned inits, reaps what it discards.
import type { Readable } from 'node:stream';
import { ExecSetupError } from './errors.js';
import { FORK_SERVER_ARG, FORK_SERVER_NODE_FLAGS } from './fork-protocol.js';
import type { ForkReply, ForkRequest } from './fork-protocol.js';
import { INIT_ENV, INIT_PIPES, initScriptPath } from './init-entry.js';
import { adoptChild, closeAllEnds, closeTheirEnds, createChildPipes, spawnPiped } from './pipe-spawn.js';
import type { PipeDirection, PipedChild } from './pipe-spawn.js';
import { CLONE, canCloneProcess, waitChild } from './syscalls.js';

const DIAG_LIMIT = 16 * 1024;

/** util-linux unshare's flags that a clone can honour, and how; any other flag needs unshare itself. */
const CLONE_FLAG_OF: Readonly<Record<string, number>> = {
  '--mount': CLONE.NEWNS,
  '--pid': CLONE.NEWPID,
  '--uts': CLONE.NEWUTS,
  '--ipc': CLONE.NEWIPC,
  '--net': CLONE.NEWNET,
  // A clone is PID 1 of its pid namespace itself, dies with its parent and makes its mounts private first.
  '--fork': 0,
  '--kill-child': 0,
  '--propagation': 0,
  private: 0,
};

/** The clone(2) flags for unshare's `namespaces`, or undefined when they ask for more than a clone does. */
export function cloneFlagsOf(namespaces: readonly string[]): number | undefined {
  if (!canCloneProcess()) return undefined;
  let flags = 0;
  for (const flag of namespaces) {
    const bit = CLONE_FLAG_OF[flag];
    if (bit === undefined) return undefined;
    flags |= bit;
  }
  return flags;
}

export class ForkServer {
  private readonly waiting: ((reply: ForkReply | Error) => void)[] = [];
  private failure: Error | undefined;
  private diag = '';

  private constructor(private readonly child: PipedChild) {
    const [requests, replies, diag, ...rest] = child.stdio as Readable[];
    // A server that died leaves its requests pipe without a reader: its end is reported through `closed`.
    requests?.on('error', () => undefined);
    let text = '';
    replies?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n')) {
        const line = text.slice(0, newline);
        text = text.slice(newline + 1);
        this.waiting.shift()?.(JSON.parse(line) as ForkReply);
      }
    });
    diag?.on('data', (chunk: Buffer) => {
      if (this.diag.length < DIAG_LIMIT) this.diag += chunk.toString('utf8');
    });
    // The server never writes to its fds 3 and 4 (they are there so that Node's own fds come above 5).
    for (const pipe of rest) if ('resume' in pipe) pipe.resume();
    child.closed.then(
      ({ code, signal }) => this.fail(new ExecSetupError(`the fork server ended (${signal ?? `exit status ${code}`}): ${this.diag.trim() || 'no diagnostics'}`)),
      (error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))),
    );
    child.unref();
  }

  /** Starts a fork server; it loads while the builder goes on (a request waits for it). */
  static start(): ForkServer {
    const args = [...FORK_SERVER_NODE_FLAGS, initScriptPath(), FORK_SERVER_ARG, String(process.pid)];
    try {
      return new ForkServer(spawnPiped(process.execPath, args, { env: INIT_ENV, cwd: '/', pipes: INIT_PIPES }));
    } catch (error) {
      throw new ExecSetupError(`cannot start the fork server: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * A clone in namespaces `flags` with a pipe per fd of `directions`, working in `cwd`, joined to `cgroupProcs`:
   * an init waiting for its spec, a child of the builder.
   */
  async fork(flags: number, cwd: string, cgroupProcs: readonly string[], directions: readonly PipeDirection[]): Promise<PipedChild> {
    if (this.failure !== undefined) throw this.failure;
    const pipes = createChildPipes(directions);
    let reply: ForkReply | Error;
    this.child.ref();
    try {
      const request: ForkRequest = { fds: pipes.theirs, flags, cwd, cgroupProcs };
      reply = await new Promise<ForkReply | Error>((resolve) => {
        this.waiting.push(resolve);
        (this.child.stdio[0] as NodeJS.WritableStream).write(`${JSON.stringify(request)}\n`);
      });
    } finally {
      if (this.waiting.length === 0) this.child.unref();
    }
    if (reply instanceof Error || reply.pid === undefined) {
      closeAllEnds(pipes);
      if (!(reply instanceof Error)) reapDiscarded(reply.discarded);
      throw reply instanceof Error ? reply : new ExecSetupError(`the fork server could not clone an init: ${reply.error ?? 'no reason given'}`);
    }
    reapDiscarded(reply.discarded);
    // The clone holds its own copies now.
    closeTheirEnds(pipes);
    return adoptChild(reply.pid, pipes);
  }

  /** Stops the server (its clones are the builder's children and live on) and waits until it is gone. */
  async close(): Promise<void> {
    this.child.ref();
    this.child.kill('SIGKILL');
    await this.child.closed.catch(() => undefined);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const resolve of this.waiting.splice(0)) resolve(this.failure);
  }
}

/** Clones the server killed at once (a rare race with its GC) are the builder's children: reaped as they end. */
function reapDiscarded(pids: readonly number[]): void {
  for (const pid of pids) {
    const reap = (attempt: number): void => {
      if (waitChild(pid) === null && attempt < 1000) setTimeout(() => reap(attempt + 1), 5).unref();
    };
    reap(0);
  }
}
