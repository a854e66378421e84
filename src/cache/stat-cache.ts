// Remembers content hashes of build-context files by their stat, so an unchanged file is never read twice.
import type { BigIntStats, Stats } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../disk/atomic-write.js';

/**
 * The file: MAGIC, then one block per directory: u32 dir length, dir (UTF-8), u32 block length, then records of
 * u16 name length, name, five float64 (dev, ino, size, mtime ms, ctime ms), u8 hash length, hash.
 * Binary and grouped by directory so a load decodes only directory names; a directory's records are decoded on
 * its first lookup, and a save copies the untouched directories' bytes as they are.
 */
const MAGIC = Buffer.from('KILNSC02');
const FIELDS = 5;
const FIELD_BYTES = FIELDS * 8;
const MAX_HASH_BYTES = 255;

/** The stat fields that say a file is unchanged: dev, ino, size, mtime ms, ctime ms (as float64, compared exactly). */
type StatKey = readonly [number, number, number, number, number];

function keyOf(st: Stats | BigIntStats): StatKey {
  if (typeof st.dev === 'bigint') {
    const b = st as BigIntStats;
    return [Number(b.dev), Number(b.ino), Number(b.size), Number(b.mtimeNs) / 1e6, Number(b.ctimeNs) / 1e6];
  }
  const n = st as Stats;
  return [n.dev, n.ino, n.size, n.mtimeMs, n.ctimeMs];
}

interface Row {
  readonly key: StatKey;
  readonly hash: string;
}

/** One directory's records in the loaded file; `names` (name → record offset) is built on first use. */
interface DirBlock {
  readonly start: number;
  readonly end: number;
  names?: Map<string, number>;
}

export interface StatCacheOptions {
  /**
   * A file changed within this many ms of being hashed may change again without its stat changing
   * (timestamps are only as fine as the kernel's clock tick): such hashes are not remembered.
   */
  readonly racyMarginMs?: number;
}

function splitPath(hostPath: string): [string, string] {
  const slash = hostPath.lastIndexOf('/');
  return [hostPath.slice(0, slash), hostPath.slice(slash + 1)];
}

/** Parses the directory index of a cache file; null when it is not one (torn, foreign or an older format). */
function parseBlocks(buf: Buffer): Map<string, DirBlock> | null {
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const blocks = new Map<string, DirBlock>();
  let at = MAGIC.length;
  while (at < buf.length) {
    if (at + 4 > buf.length) return null;
    const dirLen = buf.readUInt32LE(at);
    const dirEnd = at + 4 + dirLen;
    if (dirEnd + 4 > buf.length) return null;
    const dir = buf.toString('utf8', at + 4, dirEnd);
    const start = dirEnd + 4;
    const end = start + buf.readUInt32LE(dirEnd);
    if (end > buf.length) return null;
    blocks.set(dir, { start, end });
    at = end;
  }
  return blocks;
}

/** name → offset of its record, for one block; null if the block is malformed. */
function parseNames(buf: Buffer, block: DirBlock): Map<string, number> | null {
  const names = new Map<string, number>();
  let at = block.start;
  while (at < block.end) {
    const fields = fieldsOf(buf, at);
    if (fields + FIELD_BYTES + 1 > block.end) return null;
    names.set(buf.toString('utf8', at + 2, fields), at);
    at = recordEnd(buf, fields);
  }
  return at === block.end ? names : null;
}

/** Where the fields of the record at `record` start (after its name). */
function fieldsOf(buf: Buffer, record: number): number {
  return record + 2 + buf.readUInt16LE(record);
}

/** Where a record whose fields start at `fields` ends. */
function recordEnd(buf: Buffer, fields: number): number {
  return fields + FIELD_BYTES + 1 + buf[fields + FIELD_BYTES]!;
}

function encodeRecord(name: string, row: Row): Buffer {
  const nameBytes = Buffer.from(name);
  const hashBytes = Buffer.from(row.hash);
  const rec = Buffer.allocUnsafe(2 + nameBytes.length + FIELD_BYTES + 1 + hashBytes.length);
  rec.writeUInt16LE(nameBytes.length, 0);
  nameBytes.copy(rec, 2);
  let at = 2 + nameBytes.length;
  for (const v of row.key) at = rec.writeDoubleLE(v, at);
  rec[at] = hashBytes.length;
  hashBytes.copy(rec, at + 1);
  return rec;
}

function encodeBlockHeader(dir: string, blockLength: number): Buffer {
  const dirBytes = Buffer.from(dir);
  const head = Buffer.allocUnsafe(8 + dirBytes.length);
  head.writeUInt32LE(dirBytes.length, 0);
  dirBytes.copy(head, 4);
  head.writeUInt32LE(blockLength, 4 + dirBytes.length);
  return head;
}

/** Content hashes keyed by (path, dev, ino, size, mtime, ctime), persisted as one binary file written atomically. */
export class StatCache {
  /** Hashes stored during this run, by directory then name; they win over the loaded file. */
  private readonly updates = new Map<string, Map<string, Row>>();
  private readonly racyMarginMs: number;
  private updateCount = 0;

  private constructor(
    readonly file: string,
    private loaded: Buffer,
    private blocks: Map<string, DirBlock>,
    opts: StatCacheOptions,
  ) {
    this.racyMarginMs = opts.racyMarginMs ?? 2000;
  }

  /** Loads the cache at `file`; a missing or unreadable-format file starts an empty cache (it is only a speed-up). */
  static async load(file: string, opts: StatCacheOptions = {}): Promise<StatCache> {
    let buf: Buffer;
    try {
      buf = await readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new StatCache(file, Buffer.alloc(0), new Map(), opts);
      throw err;
    }
    // A torn or foreign file only costs re-hashing; it is replaced on the next save.
    const blocks = parseBlocks(buf);
    return blocks === null ? new StatCache(file, Buffer.alloc(0), new Map(), opts) : new StatCache(file, buf, blocks, opts);
  }

  /** The loaded record offsets of one directory (decoded once); a malformed block counts as empty. */
  private namesOf(dir: string): Map<string, number> | undefined {
    const block = this.blocks.get(dir);
    if (block === undefined) return undefined;
    block.names ??= parseNames(this.loaded, block) ?? new Map();
    return block.names;
  }

  /** The remembered hash of `hostPath` if its stat is exactly what it was when hashed. */
  lookup(hostPath: string, st: Stats | BigIntStats): string | undefined {
    const [dir, name] = splitPath(hostPath);
    const key = keyOf(st);
    const updated = this.updates.get(dir)?.get(name);
    if (updated !== undefined) return sameKey(updated.key, key) ? updated.hash : undefined;
    const record = this.namesOf(dir)?.get(name);
    if (record === undefined) return undefined;
    const buf = this.loaded;
    const fields = fieldsOf(buf, record);
    for (let i = 0; i < FIELDS; i += 1) if (buf.readDoubleLE(fields + i * 8) !== key[i]) return undefined;
    return buf.toString('utf8', fields + FIELD_BYTES + 1, recordEnd(buf, fields));
  }

  store(hostPath: string, st: Stats | BigIntStats, hash: string): void {
    const key = keyOf(st);
    const now = Date.now();
    if (key[4] + this.racyMarginMs > now || key[3] + this.racyMarginMs > now) return;
    if (Buffer.byteLength(hash) > MAX_HASH_BYTES || this.lookup(hostPath, st) === hash) return;
    const [dir, name] = splitPath(hostPath);
    let names = this.updates.get(dir);
    if (names === undefined) this.updates.set(dir, (names = new Map()));
    if (!names.has(name)) this.updateCount += 1;
    names.set(name, { key, hash });
  }

  /** How many files have a remembered hash. */
  get size(): number {
    let count = 0;
    for (const dir of this.blocks.keys()) {
      const updated = this.updates.get(dir);
      for (const name of this.namesOf(dir)!.keys()) if (updated?.has(name) !== true) count += 1;
    }
    return count + this.updateCount;
  }

  /** Writes the cache if anything changed: temp file, fsync, rename. Untouched directories are copied byte for byte. */
  async save(): Promise<void> {
    if (this.updates.size === 0) return;
    const parts: Buffer[] = [MAGIC];
    const buf = this.loaded;
    for (const [dir, block] of this.blocks) {
      const updated = this.updates.get(dir);
      if (updated === undefined) {
        parts.push(encodeBlockHeader(dir, block.end - block.start), buf.subarray(block.start, block.end));
        continue;
      }
      const records: Buffer[] = [];
      for (const [name, record] of this.namesOf(dir)!) {
        if (!updated.has(name)) records.push(buf.subarray(record, recordEnd(buf, fieldsOf(buf, record))));
      }
      for (const [name, row] of updated) records.push(encodeRecord(name, row));
      pushBlock(parts, dir, records);
    }
    for (const [dir, updated] of this.updates) {
      if (this.blocks.has(dir)) continue;
      pushBlock(parts, dir, [...updated].map(([name, row]) => encodeRecord(name, row)));
    }
    await mkdir(path.dirname(this.file), { recursive: true });
    const written = Buffer.concat(parts);
    await writeFileAtomic(this.file, written);
    // Later lookups and saves start from what is now on disk.
    this.loaded = written;
    this.blocks = parseBlocks(written)!;
    this.updates.clear();
    this.updateCount = 0;
  }
}

function pushBlock(parts: Buffer[], dir: string, records: readonly Buffer[]): void {
  const length = records.reduce((n, r) => n + r.length, 0);
  parts.push(encodeBlockHeader(dir, length), ...records);
}

function sameKey(a: StatKey, b: StatKey): boolean {
  for (let i = 0; i < FIELDS; i += 1) if (a[i] !== b[i]) return false;
  return true;
}
