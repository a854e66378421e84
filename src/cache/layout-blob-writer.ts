// Writes blobs into an OCI layout's blobs/sha256 directory: temp file, digest check, fsync, rename.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fsyncFile, tempPathBeside } from '../disk/atomic-write.js';
import { sha256Meter } from '../disk/sha256-meter.js';
import { KilnError } from '../errors.js';

export class LayoutBlobError extends KilnError {}

export class LayoutBlobWriter {
  constructor(readonly blobDir: string) {}

  pathOf(digest: string): string {
    return join(this.blobDir, digest.replace(/^sha256:/, ''));
  }

  /** A blob already there with the expected size is kept: blobs are content-addressed and were written atomically. */
  async has(digest: string, size: number): Promise<boolean> {
    try {
      return (await stat(this.pathOf(digest))).size === size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Streams `source` in; nothing appears under the digest's name unless the bytes hash to it. */
  async write(digest: string, source: Readable | AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<number> {
    const target = this.pathOf(digest);
    const temp = tempPathBeside(target);
    const meter = sha256Meter();
    try {
      await pipeline(source, meter.stream, createWriteStream(temp, { flags: 'wx' }), ...(signal ? [{ signal }] : []));
      const actual = meter.digest();
      if (actual !== digest) throw new LayoutBlobError(`blob ${digest} read back as ${actual}; the source store is corrupt`);
      await fsyncFile(temp);
      await rename(temp, target);
      return meter.size();
    } finally {
      await rm(temp, { force: true });
    }
  }

  async writeBytes(bytes: Uint8Array, signal?: AbortSignal): Promise<{ digest: string; size: number; written: boolean }> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (await this.has(digest, bytes.length)) return { digest, size: bytes.length, written: false };
    await this.write(digest, Readable.from([bytes]), signal);
    return { digest, size: bytes.length, written: true };
  }
}
