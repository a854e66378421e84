// The last step of the init: undo the process state Node leaves behind, then execve the container's command.
import { FD } from './init-protocol.js';
import { becomeTerminalSession } from './pty.js';
import { SysCallError } from '../sys/libc.js';
import { ContainerStartError } from './errors.js';
import { F, O_NONBLOCK, clearSignalMask, cloexecFrom, dup2, execve, fcntl, resetSignal } from './syscalls.js';

const SIGPIPE = 13;
const SIGXFSZ = 25;

/** Where the command's stdio comes from: the builder's pipes (stderr on its own fd), or a terminal. */
export type CommandStdio = { readonly kind: 'pipes' } | { readonly kind: 'tty'; readonly slavePath: string };

/**
 * Node marks fds 0-2 close-on-exec, may set O_NONBLOCK on them, ignores SIGPIPE and SIGXFSZ, and may have
 * inherited stray fds: each would leak into (or break) the command, so all are reset before execve.
 */
export function execCommand(path: string, argv: readonly string[], env: readonly string[], stdio: CommandStdio): never {
  if (stdio.kind === 'tty') {
    const tty = becomeTerminalSession(stdio.slavePath);
    for (const fd of [0, 1, 2]) dup2(tty, fd);
  } else {
    dup2(FD.cmdStderr, 2);
  }
  for (const fd of [0, 1, 2]) {
    fcntl(fd, F.SETFD, 0);
    const flags = fcntl(fd, F.GETFL, 0);
    if ((flags & O_NONBLOCK) !== 0) fcntl(fd, F.SETFL, flags & ~O_NONBLOCK);
  }
  resetSignal(SIGPIPE);
  resetSignal(SIGXFSZ);
  clearSignalMask();
  cloexecFrom(3);
  process.umask(0o022);
  try {
    return execve(path, argv, env);
  } catch (err) {
    throw startErrorOf(err, path);
  }
}

export function startErrorOf(err: unknown, path: string): unknown {
  if (!(err instanceof SysCallError)) return err;
  switch (err.code) {
    case 'ENOENT':
      return new ContainerStartError(`exec ${path}: no such file or directory`, 127);
    case 'EACCES':
      return new ContainerStartError(`exec ${path}: permission denied`, 126);
    case 'ENOEXEC':
      return new ContainerStartError(`exec ${path}: exec format error`, 126);
    default:
      return new ContainerStartError(`exec ${path}: ${err.code}`, 126);
  }
}
