// The fork server: one Node process per build with the init's code loaded, which clones an init for each RUN step.
// A clone is a copy of a process that has already started (~2 ms), where a new init pays Node's start-up (~30 ms of
// CPU). The clone is made in the step's new namespaces (clone(2) flags), as a child of the builder (CLONE_PARENT), so
// the builder reaps it and sees its status as it would an init's. Everything here is synchronous: the server never
// returns to its event loop, and a clone, which shares that loop's epoll instance with it, must never enter it.
import { readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { mappingsUnchanged, prepareForClone } from './fork-memory.js';
import type { ForkReply, ForkRequest } from './fork-protocol.js';
import { prepareKernelMounts, reportStartFailure, runContainerInit } from './init-container.js';
import { FD } from './init-protocol.js';
import type { InitSpec } from './init-protocol.js';
import { readSpecPath, sendStatus } from './init-status.js';
import { CLONE, blockAllSignals, close, cloneProcess, dieWithParent, dup2, exitNow, pidfdGetfd, pidfdOpen } from './syscalls.js';

/** Clones killed in a row because the heap changed under them before the server gives up on a request. */
const MAX_DISCARDS = 5;

/** Lines from fd 0, read with blocking reads: undefined at end of input. */
function lineReader(fd: number): () => string | undefined {
  let pending = '';
  const chunk = Buffer.alloc(64 * 1024);
  return () => {
    for (;;) {
      const newline = pending.indexOf('\n');
      if (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        return line;
      }
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) return undefined;
      pending += chunk.toString('utf8', 0, read);
    }
  };
}

/** Serves fork requests from fd 0 until the builder closes it (or dies: PDEATHSIG); returns the exit status. */
export function serveForks(builderPid: number): number {
  dieWithParent();
  // Started by a builder that died before the line above: nobody would ever kill this process.
  if (process.ppid !== builderPid) return 0;
  const builder = pidfdOpen(builderPid);
  const nextLine = lineReader(0);
  for (let line = nextLine(); line !== undefined; line = nextLine()) {
    const reply = forkOne(builder, JSON.parse(line) as ForkRequest);
    writeSync(1, `${JSON.stringify(reply)}\n`);
  }
  return 0;
}

function forkOne(builder: number, request: ForkRequest): ForkReply {
  const discarded: number[] = [];
  const fds: number[] = [];
  try {
    // Copies of the builder's pipe ends, above the fds 0-5 they become in the clone (0-5 are this server's own).
    for (const fd of request.fds) fds.push(pidfdGetfd(builder, fd));
    while (discarded.length < MAX_DISCARDS) {
      prepareForClone();
      const pid = cloneProcess(request.flags | CLONE.PARENT);
      if (pid === 0) runClone(request, fds, builder);
      if (mappingsUnchanged()) return { pid, discarded };
      process.kill(pid, 'SIGKILL');
      discarded.push(pid);
    }
    return { error: `the fork server's heap kept changing while cloning (${MAX_DISCARDS} attempts)`, discarded };
  } catch (err) {
    return { error: (err as Error).message, discarded };
  } finally {
    for (const fd of fds) close(fd);
  }
}

/** The clone: becomes an init at its `waiting` point, then runs its step. Never returns. */
function runClone(request: ForkRequest, fds: readonly number[], builder: number): never {
  let status = 125;
  try {
    // Node's signal handlers write into fds of the server's event loop: no signal may run one before the exec
    // (which unblocks them all); SIGKILL, the builder's way to stop a step, cannot be blocked.
    blockAllSignals();
    fds.forEach((fd, target) => dup2(fd, target));
    for (const fd of fds) close(fd);
    close(builder);
    // Its parent is the builder (CLONE_PARENT): the step dies with it, as an init dies with unshare.
    dieWithParent();
    process.chdir(request.cwd);
    status = runStep(request.cgroupProcs);
  } catch (err) {
    try {
      writeSync(FD.diag, `kiln init (cloned): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    } catch {
      // The builder is gone: nobody to tell.
    }
  }
  exitNow(status);
}

/** init.ts's steps for a container without `--init`, all synchronous; returns the exit status if the exec fails. */
function runStep(cgroupProcs: readonly string[]): number {
  for (const procsFile of cgroupProcs) writeFileSync(procsFile, '0');
  const staged = prepareKernelMounts(path.join(process.cwd(), 'kernel'));
  // A write to a builder that died before PDEATHSIG was set fails here (EPIPE), and the clone ends.
  sendStatus({ kind: 'waiting' });
  const specPath = readSpecPath();
  if (specPath === undefined) return 0;
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as InitSpec;
  if (spec.mode !== 'container' || spec.process.init === true || spec.process.tty === true) {
    return reportStartFailure(new Error('internal error: a cloned init runs only containers without --init or a terminal'));
  }
  try {
    return runContainerInit(spec, staged) as never;
  } catch (err) {
    return reportStartFailure(err);
  }
}
