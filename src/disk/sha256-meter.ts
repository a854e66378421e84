// A pass-through stream that hashes and counts what flows through it: how blobs are verified while they are written.
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

export interface Sha256Meter {
  readonly stream: Transform;
  /** "sha256:<hex>" of everything that passed; call once, after the stream ended. */
  digest(): string;
  size(): number;
}

export function sha256Meter(): Sha256Meter {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  return { stream, digest: () => `sha256:${hash.digest('hex')}`, size: () => size };
}
