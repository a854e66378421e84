// Content store on disk: blobs/sha256/<hex>, written through ingest files and verified before they appear.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KilnError } from '../errors.js';
import { fsyncDir, fsyncFile } from '../disk/atomic-write.js';
import { processAlive } from '../disk/process-alive.js';
import { sha256Meter } from '../disk/sha256-meter.js';
import type { ContentStore, Descriptor } from './types.js';

export class DigestMismatchError extends KilnError {}

const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

function hexOf(digest: string): string {
  if (!DIGEST_PATTERN.test(digest)) throw new KilnError(`invalid digest "${digest}": expected sha256:<64 hex digits>`);
  return digest.slice('sha256:'.length);
}

export class FileContentStore implements ContentStore {
  private readonly blobDir: string;
  private readonly ingestDir: string;

  constructor(readonly root: string) {
    this.blobDir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  async init(): Promise<void> {
    await mkdir(this.blobDir, { recursive: true });
    await mkdir(this.ingestDir, { recursive: true });
    // Partial writes of a crashed kiln are never valid blobs: drop them. Only a dead writer's (the name starts with
    // its pid): another kiln sharing this root may be writing its own right now.
    const stale = (await readdir(this.ingestDir)).filter((name) => !processAlive(Number(name.split('-')[0])));
    await Promise.all(stale.map((name) => rm(join(this.ingestDir, name), { force: true })));
  }

  pathOf(digest: string): string {
    return join(this.blobDir, hexOf(digest));
  }

  async has(digest: string): Promise<boolean> {
    try {
      await access(this.pathOf(digest));
      return true;
    } catch {
      return false;
    }
  }

  read(digest: string): Readable {
    return createReadStream(this.pathOf(digest));
  }

  async readBytes(digest: string): Promise<Buffer> {
    const bytes = await readFile(this.pathOf(digest));
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (actual !== digest) throw new DigestMismatchError(`blob ${digest} is corrupt on disk (content hashes to ${actual})`);
    return bytes;
  }

  async write(source: AsyncIterable<Uint8Array> | Readable, mediaType: string, expectedDigest?: string): Promise<Descriptor> {
    const ingest = join(this.ingestDir, `${process.pid}-${randomBytes(8).toString('hex')}`);
    const meter = sha256Meter();
    const out = createWriteStream(ingest, { flags: 'wx' });
    try {
      const input = source instanceof Readable ? source : Readable.from(source);
      await pipeline(input, meter.stream, out);
      const digest = meter.digest();
      if (expectedDigest !== undefined && digest !== expectedDigest) {
        throw new DigestMismatchError(`content digest ${digest} does not match the expected ${expectedDigest}`);
      }
      await fsyncFile(ingest);
      await rename(ingest, this.pathOf(digest));
      await fsyncDir(this.blobDir);
      return { mediaType, digest, size: meter.size() };
    } finally {
      await rm(ingest, { force: true });
    }
  }

  async writeBytes(bytes: Uint8Array | string, mediaType: string): Promise<Descriptor> {
    const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    if (await this.has(digest)) return { mediaType, digest, size: data.length };
    return this.write(Readable.from([data]), mediaType, digest);
  }

  async list(): Promise<string[]> {
    const names = await readdir(this.blobDir);
    return names.filter((name) => /^[0-9a-f]{64}$/.test(name)).map((hex) => `sha256:${hex}`);
  }

  async remove(digest: string): Promise<void> {
    await rm(this.pathOf(digest), { force: true });
  }

  async sizeOf(digest: string): Promise<number> {
    return (await stat(this.pathOf(digest))).size;
  }
}
