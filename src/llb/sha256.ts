// sha256 of bytes (or a string's UTF-8) as a "sha256:<hex>" digest.
import * as crypto from 'node:crypto';
import type { Digest } from './types.js';

// crypto.hash (Node 20.12+) skips building a Hash object: a third of the cost for op-sized inputs.
const oneShot: typeof crypto.hash | undefined = typeof crypto.hash === 'function' ? crypto.hash : undefined;

export function sha256Digest(data: string | Uint8Array): Digest {
  const hex = oneShot !== undefined ? oneShot('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex');
  return `sha256:${hex}`;
}
