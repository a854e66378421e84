// Init side of the status pipe: one JSON line per message on fd 3.
import { writeSync } from 'node:fs';
import { FD } from './init-protocol.js';
import type { StatusMessage } from './init-protocol.js';

export function sendStatus(msg: StatusMessage): void {
  writeSync(FD.status, `${JSON.stringify(msg)}\n`);
}
