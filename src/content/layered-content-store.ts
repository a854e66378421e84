// The local content store plus read-only fallback blob directories (imported caches), fetched into local on first read.
import { createReadStream, existsSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { readdirOrEmpty } from '../disk/readdir-or-empty.js';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { KilnError } from '../errors.js';
import type { ContentStore, Descriptor } from './types.js';

export class BlobNotFoundError extends KilnError {}

const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/**
 * `has` sees every layer; `read`/`readBytes` of a blob only in a fallback first copy it into the local store
 * (digest-verified), so only blobs a build actually unpacks or exports ever land in KILN_ROOT.
 * Writes and removals go to the local store only.
 */
export class LayeredContentStore implements ContentStore {
  private readonly fetching = new Map<string, Promise<void>>();
  private fetchedDigests: string[] = [];

  constructor(
    private readonly local: ContentStore,
    /** Directories of `<hex>` blob files, e.g. an OCI layout's blobs/sha256, searched in order. */
    private readonly fallbackDirs: readonly string[],
  ) {}

  private fallbackPathOf(digest: string, dir: string): string {
    if (!DIGEST_PATTERN.test(digest)) throw new KilnError(`invalid digest "${digest}": expected sha256:<64 hex digits>`);
    return join(dir, digest.slice('sha256:'.length));
  }

  private async findFallback(digest: string): Promise<string | undefined> {
    for (const dir of this.fallbackDirs) {
      const path = this.fallbackPathOf(digest, dir);
      try {
        await access(path);
        return path;
      } catch (error) {
        // Not in this directory: try the next.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return undefined;
  }

  async has(digest: string): Promise<boolean> {
    return (await this.local.has(digest)) || (await this.findFallback(digest)) !== undefined;
  }

  /**
   * Synchronous, so it cannot fetch: the local path when the blob is local, else the fallback file it can be read
   * from now (read-only). Call `ensureLocal` first when the path must be inside KILN_ROOT.
   */
  pathOf(digest: string): string {
    const localPath = this.local.pathOf(digest);
    if (existsSync(localPath)) return localPath;
    for (const dir of this.fallbackDirs) {
      const path = this.fallbackPathOf(digest, dir);
      if (existsSync(path)) return path;
    }
    return localPath;
  }

  /** Copies the blob from a fallback into the local store if it is not local yet; concurrent calls share one copy. */
  ensureLocal(digest: string): Promise<void> {
    const running = this.fetching.get(digest);
    if (running) return running;
    const job = this.fetch(digest).finally(() => this.fetching.delete(digest));
    this.fetching.set(digest, job);
    return job;
  }

  private async fetch(digest: string): Promise<void> {
    if (await this.local.has(digest)) return;
    const source = await this.findFallback(digest);
    if (source === undefined) throw new BlobNotFoundError(`blob ${digest} is neither in the content store nor in any imported cache`);
    // The local store verifies the digest before the blob appears, so a corrupt import never lands.
    await this.local.write(createReadStream(source), 'application/octet-stream', digest);
    this.fetchedDigests.push(digest);
  }

  /** Digests copied in from fallbacks so far, in order (what the lazy fetch actually moved). */
  fetched(): readonly string[] {
    return [...this.fetchedDigests];
  }

  read(digest: string): Readable {
    const ensure = (): Promise<void> => this.ensureLocal(digest);
    const local = this.local;
    async function* fetchThenRead(): AsyncGenerator<Buffer> {
      await ensure();
      yield* local.read(digest) as AsyncIterable<Buffer>;
    }
    return Readable.from(fetchThenRead(), { objectMode: false });
  }

  async readBytes(digest: string): Promise<Buffer> {
    await this.ensureLocal(digest);
    return this.local.readBytes(digest);
  }

  write(source: AsyncIterable<Uint8Array> | Readable, mediaType: string, expectedDigest?: string): Promise<Descriptor> {
    return this.local.write(source, mediaType, expectedDigest);
  }

  writeBytes(bytes: Uint8Array | string, mediaType: string): Promise<Descriptor> {
    return this.local.writeBytes(bytes, mediaType);
  }

  /** Local blobs and fallback blobs, each once (consistent with `has`). */
  async list(): Promise<string[]> {
    const all = new Set(await this.local.list());
    for (const dir of this.fallbackDirs) {
      for (const name of await readdirOrEmpty(dir)) if (/^[0-9a-f]{64}$/.test(name)) all.add(`sha256:${name}`);
    }
    return [...all];
  }

  /** Removes the local copy only; fallbacks are read-only. */
  remove(digest: string): Promise<void> {
    return this.local.remove(digest);
  }
}
