// The content checksum of what a COPY reads from a build context: the cache key input that ignores time but not content.
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { createReadStream } from 'node:fs';
import { readlink } from 'node:fs/promises';
import xxhash from 'xxhash-wasm';
import { selectSources, type SelectedEntry, type SelectedItem } from '../disk/path-pattern-select.js';
import type { StatCache } from './stat-cache.js';

/** Hashes one file's content; the default streams it through xxhash64. */
export type FileHasher = (hostPath: string) => Promise<string>;

let hasherApi: Promise<Awaited<ReturnType<typeof xxhash>>> | undefined;

/** xxhash64 of a file's bytes, streamed (never the whole file in memory), as 16 hex digits. */
export async function xxhashFile(hostPath: string): Promise<string> {
  hasherApi ??= xxhash();
  const api = await hasherApi;
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
}

async function contentOf(ctx: HashContext, hostPath: string, st: BigIntStats): Promise<string> {
  const cached = ctx.statCache?.lookup(hostPath, st);
  if (cached !== undefined) return cached;
  const hash = await ctx.hashFile(hostPath);
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
    detail = await readlink(hostPath);
  } else if (type === 'c' || type === 'b') {
    detail = st.rdev.toString();
  }
  return JSON.stringify([rel, type, Number(st.mode & 0o7777n), st.uid.toString(), st.gid.toString(), detail]);
}

async function itemLines(ctx: HashContext, item: SelectedItem, sink: (line: string) => void): Promise<void> {
  sink(JSON.stringify(['item', item.source, item.matchedPath, item.relPath]));
  sink(await entryLine(ctx, '', item.hostPath, item.stat));
  const entries: readonly SelectedEntry[] = item.entries;
  for (const e of entries) sink(await entryLine(ctx, e.rel, e.hostPath, e.stat));
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
  const ctx: HashContext = { hashFile: opts.hashFile ?? xxhashFile, statCache: opts.statCache, inodes: new Map() };
  const digest = createHash('sha256');
  digest.update('kiln-context-checksum-v1\n');
  for (const item of items) await itemLines(ctx, item, (line) => digest.update(`${line}\n`));
  return digest.digest('hex');
}
