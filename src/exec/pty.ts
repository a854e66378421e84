// Init side of `process.tty`: a pseudo-terminal from the container's own devpts, handed to the builder, then made the command's terminal.
import { chmodSync, chownSync, closeSync, constants as fsConstants, openSync, readSync } from 'node:fs';
import { FD } from './init-protocol.js';
import { sendStatus } from './init-status.js';
import { ioctl, setsid } from './syscalls.js';
import type { TerminalSize } from './types.js';

const TIOCSPTLCK = 0x40045431;
const TIOCGPTN = 0x80045430;
const TIOCSWINSZ = 0x5414;
const TIOCSCTTY = 0x540e;
/** The "tty" group of Debian-like images; the slave gets it, as runc and Docker do. */
const TTY_GID = 5;

export function winsize(size: TerminalSize): Buffer {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(size.rows, 0);
  ws.writeUInt16LE(size.columns, 2);
  return ws;
}

/**
 * Opens a pty in the container's devpts (after pivot_root, so the slave is /dev/pts/N inside), gives the builder
 * the master through the status pipe (it takes a copy with pidfd_getfd), waits for its ack on the control fd,
 * and returns the slave's path. The slave belongs to the user, mode 620, like `docker run -t`.
 */
export function handOverPty(hostPid: number, size: TerminalSize | undefined, uid: number): string {
  const master = openSync('/dev/ptmx', fsConstants.O_RDWR | fsConstants.O_NOCTTY);
  ioctl(master, TIOCSPTLCK, Buffer.alloc(4));
  const n = Buffer.alloc(4);
  ioctl(master, TIOCGPTN, n);
  if (size !== undefined) ioctl(master, TIOCSWINSZ, winsize(size));
  const slavePath = `/dev/pts/${n.readInt32LE(0)}`;
  chownSync(slavePath, uid, TTY_GID);
  chmodSync(slavePath, 0o620);
  sendStatus({ kind: 'pty', pid: hostPid, fd: master });
  waitForAck();
  closeSync(master);
  return slavePath;
}

/** Blocks until the builder writes its one-byte ack (it holds its own copy of the master by then). */
function waitForAck(): void {
  const buf = Buffer.alloc(1);
  for (;;) {
    try {
      if (readSync(FD.control, buf, 0, 1, null) === 1) return;
      throw new Error('the builder closed the control pipe before taking the terminal');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
    }
  }
}

/** Makes the slave the controlling terminal of a new session and the stdin/stdout/stderr of this process (then exec). */
export function becomeTerminalSession(slavePath: string): number {
  setsid();
  const fd = openSync(slavePath, fsConstants.O_RDWR);
  ioctl(fd, TIOCSCTTY, null);
  return fd;
}
