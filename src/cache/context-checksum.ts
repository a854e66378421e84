// The content checksum of what a COPY reads from a build context: the cache key input that ignores time but not content.
import { posix } from 'node:path';
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { createReadStream, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import pLimit from 'p-limit';
import xxhash from 'xxhash-wasm';
import { selectSources, type SelectedEntry, type SelectedItem } from '../disk/path-pattern-select.js';
import type { StatCache } from './stat-cache.js';

/** Hashes one file's content (its size is known from the walk); the default is xxhashFile. */
export type FileHasher = (hostPath: string, size: bigint) => Promise<string>;

/** Files up to this size are read in one call; larger ones are streamed. */
const WHOLE_READ_LIMIT = 1n << 20n;
/** Content hashes computed at once: enough to keep the thread pool busy on small files. */
const HASH_CONCURRENCY = 8;

let hasherApi: Promise<Awaited<ReturnType<typeof xxhash>>> | undefined;

/** xxhash64 of a file's bytes as 16 hex digits; a file over 1 MiB (or of unknown size) is streamed, never held whole. */
export async function xxhashFile(hostPath: string, size?: bigint): Promise<string> {
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

function typeOf(st: BigIntStats): string {
  if (st.isFile()) return 'f';
  if (st.isDirectory()) return 'd';
  if (st.isSymbolicLink()) return 'l';
  if (st.isCharacterDevice()) return 'c';
  if (st.isBlockDevice()) return 'b';
  if (st.isFIFO()) return 'p';
  return 's';
}

interface HashContext {
  readonly hashFile: FileHasher;
  readonly statCache: StatCache | undefined;
  /** dev:ino of files with several links → the first name seen, so hard-link structure is part of the sum. */
  readonly inodes: Map<string, string>;
  readonly limit: ReturnType<typeof pLimit>;
}

async function contentOf(ctx: HashContext, hostPath: string, st: BigIntStats): Promise<string> {
  const cached = ctx.statCache?.lookup(hostPath, st);
  if (cached !== undefined) return cached;
  const hash = await ctx.limit(() => ctx.hashFile(hostPath, st.size));
  ctx.statCache?.store(hostPath, st, hash);
  return hash;
}

/** One line per entry: path, type, mode, owner, then what the type has (content hash, link target, device). Never times. */
async function entryLine(ctx: HashContext, rel: string, hostPath: string, st: BigIntStats): Promise<string> {
  const type = typeOf(st);
  let detail = '';
  if (type === 'f') {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1n ? ctx.inodes.get(key) : undefined;
    if (first !== undefined) detail = `hardlink:${first}`;
    else {
      if (st.nlink > 1n) ctx.inodes.set(key, rel);
      detail = await contentOf(ctx, hostPath, st);
    }
  } else if (type === 'l') {
    detail = readlinkSync(hostPath);
  } else if (type === 'c' || type === 'b') {
    detail = st.rdev.toString();
  }
  return JSON.stringify([rel, type, Number(st.mode & 0o7777n), st.uid.toString(), st.gid.toString(), detail]);
}

/** The item's lines in walk order; content hashes run concurrently (bounded), lines are joined in order. */
async function itemLines(ctx: HashContext, item: SelectedItem): Promise<string[]> {
  const entries: readonly SelectedEntry[] = item.entries;
  const lines = [
    Promise.resolve(JSON.stringify(['item', item.source, item.matchedPath, item.relPath])),
    entryLine(ctx, '', item.hostPath, item.stat),
    ...entries.map((e) => entryLine(ctx, e.rel, e.hostPath, e.stat)),
  ];
  return Promise.all(lines);
}

/**
 * A sha256 hex digest over every file a COPY with these sources would copy: relative path, type, mode,
 * uid, gid, symlink target and xxhash64 of content. Times are not part of it, so `touch` keeps the cache.
 * The selection is the one applyFileActions copies (same code), so ignored and unselected files never count.
 */
export async function checksumContextSelection(opts: ContextChecksumOptions): Promise<string> {
  const items = await selectSources({
    root: opts.root,
    src: opts.src,
    ignore: opts.exclude,
    exclude: opts.copyExclude ?? [],
    followTopSymlinks: opts.followTopSymlinks,
    parents: opts.parents ?? false,
  });
  const ctx: HashContext = {
    hashFile: opts.hashFile ?? xxhashFile,
    statCache: opts.statCache,
    inodes: new Map(),
    limit: pLimit(HASH_CONCURRENCY),
  };
  const digest = createHash('sha256');
  digest.update('kiln-context-checksum-v1\n');
  for (const item of items) {
    const lines = await itemLines(ctx, item);
    for (const line of lines) digest.update(`${line}\n`);
    if (opts.onEntry) {
      // lines[0] is the item header; the rest follow the item itself, then its entries, in walk order.
      const paths = [item.relPath, ...item.entries.map((entry) => posix.join(item.relPath, entry.rel))];
      paths.forEach((path, index) => opts.onEntry!(path, lines[index + 1]!));
    }
  }
  return digest.digest('hex');
}
