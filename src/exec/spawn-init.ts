// Builder side of one init run: spawn setpriv → unshare → node init, hand it its spec, stream its output, collect status.
import { readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { ExecSetupError } from './errors.js';
import type { ForkServer } from './fork-client.js';
import { findTool } from './host-tools.js';
import { INIT_ENV, INIT_PIPES, initScriptPath } from './init-entry.js';
import { INIT_NICE_VAR, parseStatusLines } from './init-protocol.js';
import { spawnPiped } from './pipe-spawn.js';
import type { PipedChild } from './pipe-spawn.js';
import type { StatusMessage } from './init-protocol.js';
import { attachTty } from './tty-proxy.js';
import type { TtyProxy } from './tty-proxy.js';
import type { ContainerHandle } from './types.js';

/**
 * An init that is running in its namespaces, its modules loaded, and blocked reading its spec path from the
 * control fd. Starting one ahead of need (see init-pool.ts) takes Node's start-up off a step's critical path.
 */
export interface StartedInit {
  readonly child: PipedChild;
  /** True once the process has ended (and been reaped). */
  readonly ended: () => boolean;
  /** Gives a background init that is still loading the builder's priority back: a step is waiting for it. */
  readonly hurry: () => void;
  /** True once the init has loaded everything and waits for its spec (its `waiting` status line). */
  readonly loaded: () => boolean;
  /** The status pipe's text so far; `onStatus` is called after each new chunk (the driver's hook). */
  readonly status: { text: string; onStatus?: () => void };
  /** Settles when the process and all its pipes are closed; rejects when it could not be spawned at all. */
  readonly closed: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
}

export interface InitLaunch {
  readonly specPath: string;
  readonly stdin?: Readable;
  /** Where the command's stdout and stderr go; undefined collects them into the diagnostics. */
  readonly stdout?: Writable;
  readonly stderr?: Writable;
  readonly signal: AbortSignal;
  /** The command runs on a pty: its output arrives on `stdout`, `stdin` is typed into it. */
  readonly tty?: boolean;
  /** Called once the init reported that the command is about to start. */
  readonly onStart?: (handle: ContainerHandle) => void;
}

export interface InitOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly messages: readonly StatusMessage[];
  /** unshare's and the init's own stderr (and the command's output when not streamed). */
  readonly diag: string;
  /** True when the run was killed because `signal` aborted. */
  readonly aborted: boolean;
}

const DIAG_LIMIT = 64 * 1024;

let tools: { setpriv: string; unshare: string } | undefined;

/**
 * Spawns an init in new namespaces (`namespaces` are unshare's flags, e.g. ["--mount", "--pid", "--fork", ...]).
 * `cwd` is unshare's working directory: the step's own, so a core dump it writes when re-raising a fatal signal
 * goes away with the step. The init joins the cgroups of `cgroupProcs` while it waits for its spec. Every fd is a
 * pipe, whatever the run turns out to need: the spec says which to use.
 */
export function startInit(namespaces: readonly string[], cwd: string, cgroupProcs: readonly string[] = [], background = false): StartedInit {
  tools ??= { setpriv: findTool('setpriv', 'create namespaces'), unshare: findTool('unshare', 'create namespaces') };
  const args = [
    // The container dies with the builder: PDEATHSIG kills unshare, whose --kill-child takes PID 1 and so the pid namespace.
    '--pdeathsig',
    'KILL',
    '--',
    tools.unshare,
    ...namespaces,
    '--',
    process.execPath,
    initScriptPath(),
    ...cgroupProcs,
  ];
  let child: PipedChild;
  try {
    child = spawnPiped(tools.setpriv, args, { env: { ...INIT_ENV, [INIT_NICE_VAR]: String(getPriority()) }, cwd, pipes: INIT_PIPES });
  } catch (error) {
    throw new ExecSetupError(`cannot start the container init: ${(error as Error).message}`, { cause: error });
  }
  if (background) lowerPriority(child.pid);
  return initOf(child, () => hurryInit(child.pid));
}

/**
 * An init cloned by the fork server in `cloneFlags`' namespaces, as a child of the builder: it is ready (`waiting`)
 * within milliseconds, so it needs no priority games. Rejects when the server could not clone one.
 */
export async function forkInit(server: ForkServer, cloneFlags: number, cwd: string, cgroupProcs: readonly string[]): Promise<StartedInit> {
  return initOf(await server.fork(cloneFlags, cwd, cgroupProcs, INIT_PIPES), () => undefined);
}

function initOf(child: PipedChild, hurry: () => void): StartedInit {
  const status: StartedInit['status'] = { text: '' };
  // Read from the start: the pool learns from the `waiting` line whether spares are ready in time.
  (child.stdio[3] as Readable).on('data', (chunk: Buffer) => {
    status.text += chunk.toString('utf8');
    status.onStatus?.();
  });
  // Watched from the start: an init that dies while idle must not leave a later driver waiting for a past event.
  const { closed } = child;
  closed.catch(() => undefined);
  return { child, ended: () => child.exited(), hurry, loaded: () => status.text.includes('"kind":"waiting"'), status, closed };
}

/**
 * A spare init is started at the lowest priority: it is work ahead of need, and must not take the CPU from the
 * step that runs now (a build's RUN command, or the step's own init on its critical path). Its children inherit
 * the nice value; the init sets its own back to the builder's once loaded (see init.ts), before it can be handed a step.
 */
const BACKGROUND_NICE = 19;

function lowerPriority(pid: number): void {
  try {
    setPriority(pid, BACKGROUND_NICE);
  } catch {
    // Gone already (it failed to start): its end is reported through `closed`.
  }
}

/** The init is unshare's child: found through /proc, and given the builder's priority back if it is still loading. */
function hurryInit(unsharePid: number): void {
  try {
    const children = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim().split(' ');
    for (const pid of children) if (pid !== '') setPriority(Number(pid), getPriority());
  } catch {
    // Gone, or between its exec and its fork: then it is either ended (reported through `closed`) or about to run.
  }
}

/** Lets the builder exit while `init` idles (PDEATHSIG then ends it), or holds the builder again once it is used. */
export function holdBuilder(init: StartedInit, hold: boolean): void {
  if (hold) init.child.ref();
  else init.child.unref();
}

/** Kills an init that will not be driven (or no longer is) and waits until it and its pipes are gone. */
export async function stopInit(init: StartedInit): Promise<void> {
  // Held while it ends: the builder waits for it (an idle init was let go of).
  holdBuilder(init, true);
  init.child.kill('SIGKILL');
  // Unread pipes never see their end, and 'close' waits for all of them: drain whatever the init wrote.
  for (const pipe of init.child.stdio) {
    if ('resume' in pipe) pipe.resume();
  }
  await init.closed.catch(() => undefined);
}

/** Hands a started init its spec and runs it to the end. */
export function driveInit(init: StartedInit, launch: InitLaunch): Promise<InitOutcome> {
  const { child } = init;
  holdBuilder(init, true);
  return new Promise((resolve, reject) => {
    if (launch.signal.aborted) {
      child.kill('SIGKILL');
      reject(launch.signal.reason);
      return;
    }
    const useTty = launch.tty === true && launch.stdout !== undefined;
    let diag = '';
    let aborted = false;
    let ended = false;
    let seen = 0;
    let proxy: TtyProxy | undefined;
    const addDiag = (chunk: Buffer): void => {
      if (diag.length < DIAG_LIMIT) diag += chunk.toString('utf8');
    };
    const [stdinPipe, stdoutPipe, diagPipe, , stderrPipe, controlPipe] = child.stdio as unknown as [
      Writable,
      Readable,
      Readable,
      Readable,
      Readable,
      Writable,
    ];
    // An init that died before it read its spec closes the control pipe: that shows as its exit, not as EPIPE here.
    for (const pipe of [stdinPipe, controlPipe]) {
      pipe.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') addDiag(Buffer.from(`${pipe === stdinPipe ? 'stdin' : 'control'}: ${err.message}\n`));
      });
    }
    controlPipe.write(`${launch.specPath}\n`);
    if (launch.stdout) stdoutPipe.pipe(launch.stdout, { end: false });
    else stdoutPipe.on('data', addDiag);
    if (launch.stderr) stderrPipe.pipe(launch.stderr, { end: false });
    else stderrPipe.on('data', addDiag);
    diagPipe.on('data', addDiag);
    const onMessage = (m: StatusMessage): void => {
      if (m.kind === 'pty' && launch.stdout !== undefined) {
        proxy = attachTty(m.pid, m.fd, { ...(launch.stdin ? { stdin: launch.stdin } : {}), stdout: launch.stdout });
        controlPipe.write('k');
      } else if (m.kind === 'ready' && launch.onStart !== undefined) {
        launch.onStart({
          pid: m.pid,
          kill: (sig) => {
            if (!ended) process.kill(m.pid, sig);
          },
          resize: (size) => proxy?.resize(size),
        });
      }
    };
    init.status.onStatus = (): void => {
      const messages = safeParse(init.status.text);
      try {
        for (; seen < messages.length; seen++) onMessage(messages[seen] as StatusMessage);
      } catch (err) {
        // Without its terminal or its handle the container is useless: stop it and report why.
        diag += `kiln: ${(err as Error).message}\n`;
        child.kill('SIGKILL');
      }
    };
    init.status.onStatus();
    // Without stdin the init points the command's fd 0 at /dev/null; the pipe just closes.
    if (launch.stdin && !useTty) launch.stdin.pipe(stdinPipe);
    else stdinPipe.end();
    const onAbort = (): void => {
      aborted = true;
      child.kill('SIGKILL');
    };
    launch.signal.addEventListener('abort', onAbort, { once: true });
    init.closed.then(({ code, signal }) => {
      ended = true;
      launch.signal.removeEventListener('abort', onAbort);
      if (launch.stdin && !useTty) launch.stdin.unpipe(stdinPipe);
      // Unpiped, a flowing stdin (a terminal, process.stdin) would keep reading and keep the builder alive.
      if (launch.stdin && !useTty) launch.stdin.pause();
      if (launch.stdout) stdoutPipe.unpipe(launch.stdout);
      if (launch.stderr) stderrPipe.unpipe(launch.stderr);
      let messages: StatusMessage[];
      try {
        messages = parseStatusLines(init.status.text);
      } catch {
        reject(new ExecSetupError(`container init sent a malformed status: ${JSON.stringify(init.status.text)}; diagnostics: ${diag.trim()}`));
        return;
      }
      const outcome = { code, signal, messages, diag, aborted };
      // With a terminal, the last output may still be in the master when the init is gone.
      if (proxy === undefined) resolve(outcome);
      else proxy.done.then(() => resolve(outcome), reject);
    }, (err: unknown) => {
      launch.signal.removeEventListener('abort', onAbort);
      reject(err);
    });
  });
}

/** Status lines seen so far; a partial last line is not an error yet. */
function safeParse(text: string): StatusMessage[] {
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  try {
    return parseStatusLines(complete);
  } catch {
    return [];
  }
}
