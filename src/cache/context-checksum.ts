// The content checksum of what a COPY reads from a build context: the cache key input that ignores time but not content.
import { createHash, type Hash } from 'node:crypto';
import type { BigIntStats, Stats } from 'node:fs';
import { createReadStream, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import pLimit from 'p-limit';
import xxhash from 'xxhash-wasm';
import { lstatBigInt, lstatNumber, visitSources, type VisitedItem } from '../disk/index.js';
import type { StatCache } from './stat-cache.js';

/** Hashes one file's content (its size is known from the walk); the default is xxhashFile. */
export type FileHasher = (hostPath: string, size: number) => Promise<string>;

/** Files up to this size are read in one call; larger ones are streamed. */
const WHOLE_READ_LIMIT = 1 << 20;
/** Content hashes computed at once: enough to keep the thread pool busy on small files. */
const HASH_CONCURRENCY = 8;
/** Lines waiting for an earlier content hash before the walk pauses: bounds memory on a cold context. */
const MAX_WAITING_LINES = 1024;
/** Checksum text fed to sha256 at once (one update per line costs more than the hashing). */
const DIGEST_BATCH = 64 * 1024;

let hasherApi: Promise<Awaited<ReturnType<typeof xxhash>>> | undefined;

/** xxhash64 of a file's bytes as 16 hex digits; a file over 1 MiB (or of unknown size) is streamed, never held whole. */
export async function xxhashFile(hostPath: string, size?: number): Promise<string> {
  hasherApi ??= xxhash();
  const api = await hasherApi;
  if (size !== undefined && size <= WHOLE_READ_LIMIT) {
    return api.h64Raw(await readFile(hostPath)).toString(16).padStart(16, '0');
  }
  const h = api.create64();
  for await (const chunk of createReadStream(hostPath, { highWaterMark: 1 << 20 })) h.update(chunk as Uint8Array);
  return h.digest().toString(16).padStart(16, '0');
}

export interface ContextChecksumOptions {
  readonly root: string;
  /** The COPY's sources as written (paths or wildcards). */
  readonly src: readonly string[];
  /** The context's own excludes (.dockerignore). */
  readonly exclude: readonly string[];
  readonly followTopSymlinks: boolean;
  readonly statCache?: StatCache;
  /** COPY --exclude patterns, so the key covers exactly what is copied. */
  readonly copyExclude?: readonly string[];
  /** COPY --parents. */
  readonly parents?: boolean;
  /** Called once per selected entry with its path (relative to the destination) and its checksum line. */
  readonly onEntry?: (path: string, line: string) => void;
  /** Replaces the content hasher (tests count reads with it). */
  readonly hashFile?: FileHasher;
}

type AnyStats = Stats | BigIntStats;

function typeOf(st: AnyStats): string {
  if (st.isFile()) return 'f';
  if (st.isDirectory()) return 'd';
  if (st.isSymbolicLink()) return 'l';
  if (st.isCharacterDevice()) return 'c';
  if (st.isBlockDevice()) return 'b';
  if (st.isFIFO()) return 'p';
  return 's';
}

/**
 * The walk takes number stats (cheaper); a double holds every field the line and the stat cache use except a
 * device or inode number above 2^53, so only such an entry is stat'ed again in exact form.
 */
function exactStat(hostPath: string, st: Stats): AnyStats {
  if (Number.isSafeInteger(st.ino) && Number.isSafeInteger(st.dev) && Number.isSafeInteger(st.rdev)) return st;
  return lstatBigInt(hostPath) ?? st;
}

interface HashContext {
  readonly hashFile: FileHasher;
  readonly statCache: StatCache | undefined;
  /** dev:ino of files with several links → the first name seen, so hard-link structure is part of the sum. */
  readonly inodes: Map<string, string>;
  readonly limit: ReturnType<typeof pLimit>;
}

/** The file's content hash: at once from the stat cache, else read (bounded concurrency) and remembered. */
function contentOf(ctx: HashContext, hostPath: string, st: AnyStats): string | Promise<string> {
  const cached = ctx.statCache?.lookup(hostPath, st);
  if (cached !== undefined) return cached;
  return ctx.limit(async () => {
    const hash = await ctx.hashFile(hostPath, Number(st.size));
    ctx.statCache?.store(hostPath, st, hash);
    return hash;
  });
}

/** One line per entry: path, type, mode, owner, then what the type has (content hash, link target, device). Never times. */
function entryLine(ctx: HashContext, rel: string, hostPath: string, walked: Stats): string | Promise<string> {
  const st = exactStat(hostPath, walked);
  const type = typeOf(st);
  // The JSON array [rel, type, mode, "uid", "gid", detail], spelled out: type and the numbers need no escaping.
  const head = `[${JSON.stringify(rel)},"${type}",${Number(st.mode) & 0o7777},"${st.uid}","${st.gid}",`;
  const line = (detail: string): string => `${head}${JSON.stringify(detail)}]`;
  if (type === 'f') {
    if (Number(st.nlink) > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = ctx.inodes.get(key);
      if (first !== undefined) return line(`hardlink:${first}`);
      ctx.inodes.set(key, rel);
    }
    const content = contentOf(ctx, hostPath, st);
    return typeof content === 'string' ? line(content) : content.then(line);
  }
  if (type === 'l') return line(readlinkSync(hostPath));
  if (type === 'c' || type === 'b') return line(String(st.rdev));
  return line('');
}

interface WaitingLine {
  readonly path: string | undefined;
  line: string | undefined;
  readonly hashed: Promise<string> | undefined;
}

/**
 * Feeds lines to sha256 in walk order while content hashes finish out of order. A line that is ready and has no
 * earlier line waiting goes straight in, so a warm walk keeps nothing; `onEntry` sees each path with its line.
 */
class OrderedDigest {
  private readonly digest: Hash = createHash('sha256');
  private batch = '';
  private readonly waiting: WaitingLine[] = [];
  private head = 0;

  constructor(private readonly onEntry: ((path: string, line: string) => void) | undefined) {
    this.batch = 'kiln-context-checksum-v1\n';
  }

  /** Adds the next line (`path` undefined for an item header). */
  add(path: string | undefined, line: string | Promise<string>): void {
    this.takeReady();
    if (this.head === this.waiting.length && typeof line === 'string') {
      this.emit(path, line);
      return;
    }
    if (typeof line === 'string') this.waiting.push({ path, line, hashed: undefined });
    else {
      const slot: WaitingLine = { path, line: undefined, hashed: line };
      line.then(
        (value) => (slot.line = value),
        // Observed here so a failure is not "unhandled"; it is rethrown when the slot's turn comes.
        () => undefined,
      );
      this.waiting.push(slot);
    }
  }

  /** A promise when too many lines wait for content hashes: the walk pauses until half of them are in. */
  backpressure(): void | Promise<void> {
    return this.waiting.length - this.head >= MAX_WAITING_LINES ? this.drain(MAX_WAITING_LINES / 2) : undefined;
  }

  /** Every line in, the digest. */
  async finish(): Promise<string> {
    await this.drain(0);
    this.digest.update(this.batch);
    return this.digest.digest('hex');
  }

  private emit(path: string | undefined, line: string): void {
    this.batch += `${line}\n`;
    if (this.batch.length >= DIGEST_BATCH) {
      this.digest.update(this.batch);
      this.batch = '';
    }
    if (path !== undefined) this.onEntry?.(path, line);
  }

  /** Emits waiting lines from the head while they are ready. */
  private takeReady(): void {
    while (this.head < this.waiting.length) {
      const slot = this.waiting[this.head]!;
      if (slot.line === undefined) return;
      this.emit(slot.path, slot.line);
      this.head += 1;
    }
    this.waiting.length = 0;
    this.head = 0;
  }

  /** Waits for the head's hashes until at most `limit` lines wait. */
  private async drain(limit: number): Promise<void> {
    while (this.waiting.length - this.head > limit) {
      const slot = this.waiting[this.head]!;
      slot.line ??= await slot.hashed!;
      this.takeReady();
    }
  }
}

/**
 * A sha256 hex digest over every file a COPY with these sources would copy: relative path, type, mode,
 * uid, gid, symlink target and xxhash64 of content. Times are not part of it, so `touch` keeps the cache.
 * The selection is the one applyFileActions copies (same walk), so ignored and unselected files never count.
 * It is computed as the walk goes: nothing per file is kept, and a warm stat cache reads no file content.
 */
export async function checksumContextSelection(opts: ContextChecksumOptions): Promise<string> {
  const ctx: HashContext = {
    hashFile: opts.hashFile ?? xxhashFile,
    statCache: opts.statCache,
    inodes: new Map(),
    limit: pLimit(HASH_CONCURRENCY),
  };
  const sum = new OrderedDigest(opts.onEntry);
  let base = '';
  const selection = {
    root: opts.root,
    src: opts.src,
    ignore: opts.exclude,
    exclude: opts.copyExclude ?? [],
    followTopSymlinks: opts.followTopSymlinks,
    parents: opts.parents ?? false,
  };
  await visitSources(selection, lstatNumber, {
    item(item: VisitedItem<Stats>) {
      base = item.relPath;
      sum.add(undefined, JSON.stringify(['item', item.source, item.matchedPath, item.relPath]));
      sum.add(item.relPath, entryLine(ctx, '', item.hostPath, item.stat));
    },
    entry(rel, hostPath, stat) {
      const path = opts.onEntry === undefined ? undefined : base === '' ? rel : `${base}/${rel}`;
      sum.add(path, entryLine(ctx, rel, hostPath, stat));
      return sum.backpressure();
    },
  });
  return sum.finish();
}
