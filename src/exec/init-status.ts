// Init side of the status pipe (one JSON line per message on fd 3) and of the control fd (the spec's path).
import { readSync, writeSync } from 'node:fs';
import { FD } from './init-protocol.js';
import type { StatusMessage } from './init-protocol.js';
import { F, O_NONBLOCK, fcntl } from './syscalls.js';

export function sendStatus(msg: StatusMessage): void {
  writeSync(FD.status, `${JSON.stringify(msg)}\n`);
}

/** The spec's path, one line on the control fd; undefined when the builder closed it unused (a spare it no longer needs). */
export function readSpecPath(): string | undefined {
  // Blocking: the init has nothing else to do until its step comes.
  fcntl(FD.control, F.SETFL, fcntl(FD.control, F.GETFL, 0) & ~O_NONBLOCK);
  const bytes: number[] = [];
  const one = Buffer.alloc(1);
  // Byte by byte: whatever follows the newline (the pty ack) is read later by someone else.
  for (;;) {
    if (readSync(FD.control, one, 0, 1, null) === 0) return undefined;
    if (one[0] === 0x0a) return Buffer.from(bytes).toString('utf8');
    bytes.push(one[0] as number);
  }
}
