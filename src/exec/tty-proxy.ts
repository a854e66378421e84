// Builder side of `process.tty`: takes a copy of the container's pty master and relays it to the caller's streams.
import tty from 'node:tty';
import type { Readable, Writable } from 'node:stream';
import { SysCallError, lastErrno, libcFunction } from '../sys/libc.js';
import type { TerminalSize } from './types.js';

const TIOCSWINSZ = 0x5414;

export interface TtyProxy {
  resize(size: TerminalSize): void;
  /** Settles once the terminal hung up (every holder of the slave is gone) and all output was passed on. */
  readonly done: Promise<void>;
}

/** pidfd_getfd(2): a copy of fd `fd` of process `pid` (both glibc 2.36 wrappers; Linux 5.6+). */
function copyFdOf(pid: number, fd: number): number {
  const pidfd = Number(libcFunction('int pidfd_open(int pid, unsigned int flags)')(pid, 0));
  if (pidfd < 0) throw new SysCallError('pidfd_open', String(pid), lastErrno());
  try {
    const copy = Number(libcFunction('int pidfd_getfd(int pidfd, int targetfd, unsigned int flags)')(pidfd, fd, 0));
    if (copy < 0) throw new SysCallError('pidfd_getfd', `${pid}/fd/${fd}`, lastErrno());
    return copy;
  } finally {
    libcFunction('int close(int fd)')(pidfd);
  }
}

export function attachTty(pid: number, fd: number, io: { readonly stdin?: Readable; readonly stdout: Writable }): TtyProxy {
  const master = copyFdOf(pid, fd);
  // A tty stream on the master (libuv does not reopen a master), readable and writable on one handle.
  const stream = new tty.ReadStream(master);
  stream.pipe(io.stdout, { end: false });
  // stdin EOF must not close the master (that would hang up the terminal); ^D is how a terminal says EOF.
  io.stdin?.pipe(stream, { end: false });
  const done = new Promise<void>((resolve, reject) => {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      // EIO is how a pty master reports that the last slave fd closed: the normal end of the session.
      if (err.code === 'EIO') stream.destroy();
      else reject(err);
    });
    stream.on('close', () => {
      io.stdin?.unpipe(stream);
      // Unpiped, a flowing stdin (a terminal, process.stdin) would keep reading and keep the builder alive.
      io.stdin?.pause();
      resolve();
    });
  });
  return {
    resize(size) {
      if (stream.destroyed) return;
      const ws = Buffer.alloc(8);
      ws.writeUInt16LE(size.rows, 0);
      ws.writeUInt16LE(size.columns, 2);
      const rc = Number(libcFunction('int ioctl(int fd, unsigned long req, void *arg)')(master, TIOCSWINSZ, ws));
      if (rc < 0) throw new SysCallError('ioctl TIOCSWINSZ', `pty master fd ${master}`, lastErrno());
    },
    done,
  };
}
