// `process.init` (docker run --init): the Node init stays PID 1, forwards signals to the command and reaps every zombie.
import { FD } from './init-protocol.js';
import type { CommandStdio } from './exec-command.js';
import { startErrorOf } from './exec-command.js';
import { F, O_NONBLOCK, cloexecFrom, fcntl, spawnProcess, waitAnyChild } from './syscalls.js';

/** What tini forwards by default, SIGUSR1 included (init.ts keeps Node's inspector from taking it). */
const FORWARDED: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGTSTP'];

/** The shell-style status of a raw wait status: exit code, or 128+N for signal N (PID 1 cannot re-raise a signal on itself). */
function shellStatus(raw: number): number {
  const sig = raw & 0x7f;
  return sig === 0 ? (raw >> 8) & 0xff : 128 + sig;
}

/** Signal listeners installed ahead of the command: what arrives before it exists is held, then passed on in order. */
export interface SignalForwarder {
  /** From now on every signal goes to `pid`; the held ones go first. */
  target(pid: number): void;
}

/**
 * Installs the forwarding listeners. Call it before the builder hears 'ready' (it forwards signals from then on):
 * a PID 1 without a handler has the kernel drop every signal, so one arriving before the listeners would be lost.
 */
export function forwardSignals(): SignalForwarder {
  let pid: number | undefined;
  const held: NodeJS.Signals[] = [];
  const send = (sig: NodeJS.Signals): void => {
    try {
      process.kill(pid as number, sig);
    } catch (err) {
      // The command is already gone; its exit is being reaped.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  };
  for (const sig of FORWARDED) process.on(sig, () => (pid === undefined ? held.push(sig) : send(sig)));
  return {
    target(commandPid) {
      pid = commandPid;
      for (const sig of held.splice(0)) send(sig);
    },
  };
}

/**
 * Starts the command with posix_spawn (safe from a multi-threaded process) and never returns: the process exits
 * with the command's status once it ends. Orphans reparented to PID 1 are reaped on every SIGCHLD.
 */
export function runUnderInit(forwarder: SignalForwarder, path: string, argv: readonly string[], env: readonly string[], stdio: CommandStdio): Promise<never> {
  for (const fd of stdio.kind === 'tty' ? [] : [0, 1]) {
    fcntl(fd, F.SETFD, 0);
    const flags = fcntl(fd, F.GETFL, 0);
    if ((flags & O_NONBLOCK) !== 0) fcntl(fd, F.SETFL, flags & ~O_NONBLOCK);
  }
  cloexecFrom(3);
  process.umask(0o022);
  // ps in the container shows this instead of the host paths of node and the init's entry.
  process.title = 'kiln-init';
  let pid: number;
  try {
    pid =
      stdio.kind === 'tty'
        ? spawnProcess(path, argv, env, { setsid: true, openAsStdin: stdio.slavePath, dup2: [[0, 1], [0, 2]] })
        : spawnProcess(path, argv, env, { setsid: false, dup2: [[FD.cmdStderr, 2]] });
  } catch (err) {
    return Promise.reject(startErrorOf(err, path));
  }
  forwarder.target(pid);
  const reap = (): void => {
    for (let child = waitAnyChild(); child !== null; child = waitAnyChild()) {
      if (child.pid === pid) process.exit(shellStatus(child.status));
    }
  };
  process.on('SIGCHLD', reap);
  // Signal listeners do not keep Node alive; the timer does, and also catches a SIGCHLD that raced the listener.
  setInterval(reap, 200);
  reap();
  return new Promise<never>(() => undefined);
}
