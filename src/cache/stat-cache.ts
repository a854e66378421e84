// Remembers content hashes of build-context files by their stat, so an unchanged file is never read twice.
import type { BigIntStats, Stats } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../disk/atomic-write.js';

/**
 * The file: MAGIC, a u32 byte-order mark, then one block per directory:
 *   u32 dir length, dir, u32 count, u32 names length, names joined by NUL, u32 hashes length, hashes joined by NUL,
 *   then count × five float64 (dev, ino, size, mtime ms, ctime ms).
 * Integers and floats are in the writer's byte order (the file never leaves the machine; another order reads as
 * no file). A load reads only the block headers; a directory's names are decoded on its first lookup, and a save
 * copies the blocks of untouched directories byte for byte.
 */
const MAGIC = Buffer.from('KILNSC03');
const BYTE_ORDER_MARK = 0x01020304;
const HEADER = 16;
const FIELDS = 5;
/** A file name never holds NUL; hashes that do are simply not remembered. */
const SEPARATOR = '\0';

/** The stat fields that say a file is unchanged: dev, ino, size, mtime ms, ctime ms (float64, compared exactly). */
type StatKey = readonly number[];

/** The machine's byte order, which the file is written in. */
const BYTE_ORDER: 'LE' | 'BE' = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 'LE' : 'BE';

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

/** One directory in the loaded file: where its parts are, and (after the first lookup) its decoded names. */
interface DirBlock {
  readonly start: number;
  readonly end: number;
  readonly count: number;
  readonly names: readonly [number, number];
  readonly hashes: readonly [number, number];
  readonly fields: number;
  decoded?: DecodedBlock;
}

interface DecodedBlock {
  /** name → position, built only when a lookup comes out of order. */
  index?: Map<string, number>;
  /** Where the next lookup probably is: a walk asks for names in the order they are stored (sorted). */
  next: number;
  readonly names: readonly string[];
  readonly hashes: readonly string[];
  readonly fields: Float64Array;
}

export interface StatCacheOptions {
  /**
   * A file changed within this many ms of being hashed may change again without its stat changing
   * (timestamps are only as fine as the kernel's clock tick): such hashes are not remembered.
   */
  readonly racyMarginMs?: number;
}

/** Parses the block headers of a cache file; null when it is not one (torn, foreign, older format, other byte order). */
function parseBlocks(buf: Buffer): Map<string, DirBlock> | null {
  if (buf.length < HEADER || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  if (readU32(buf, MAGIC.length) !== BYTE_ORDER_MARK) return null;
  const u32 = (at: number): number | null => (at + 4 <= buf.length ? readU32(buf, at) : null);
  const blocks = new Map<string, DirBlock>();
  let at = HEADER;
  while (at < buf.length) {
    const dirLen = u32(at);
    if (dirLen === null) return null;
    const dirEnd = at + 4 + dirLen;
    const count = u32(dirEnd);
    const namesLen = u32(dirEnd + 4);
    if (count === null || namesLen === null) return null;
    const namesStart = dirEnd + 8;
    const hashesLen = u32(namesStart + namesLen);
    if (hashesLen === null) return null;
    const hashesStart = namesStart + namesLen + 4;
    const fields = hashesStart + hashesLen;
    const end = fields + count * FIELDS * 8;
    if (end > buf.length) return null;
    const dir = buf.toString('utf8', at + 4, dirEnd);
    blocks.set(dir, { start: at, end, count, names: [namesStart, namesStart + namesLen], hashes: [hashesStart, hashesStart + hashesLen], fields });
    at = end;
  }
  return blocks;
}

function readU32(buf: Buffer, at: number): number {
  return BYTE_ORDER === 'LE' ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
}

function writeU32(buf: Buffer, value: number, at: number): number {
  return BYTE_ORDER === 'LE' ? buf.writeUInt32LE(value, at) : buf.writeUInt32BE(value, at);
}

/** Splits a block's names and hashes; null when they do not agree with its count. */
function decodeBlock(buf: Buffer, block: DirBlock): DecodedBlock | null {
  const names = block.count === 0 ? [] : buf.toString('utf8', block.names[0], block.names[1]).split(SEPARATOR);
  const hashes = block.count === 0 ? [] : buf.toString('utf8', block.hashes[0], block.hashes[1]).split(SEPARATOR);
  if (names.length !== block.count || hashes.length !== block.count) return null;
  const fields = new Float64Array(block.count * FIELDS);
  new Uint8Array(fields.buffer).set(buf.subarray(block.fields, block.end));
  return { next: 0, names, hashes, fields };
}

function encodeBlock(dir: string, rows: ReadonlyMap<string, Row>): Buffer {
  const names = [...rows.keys()].sort();
  const dirBytes = Buffer.from(dir);
  const nameBytes = Buffer.from(names.join(SEPARATOR));
  const hashBytes = Buffer.from(names.map((name) => rows.get(name)!.hash).join(SEPARATOR));
  const fieldsAt = 4 + dirBytes.length + 8 + nameBytes.length + 4 + hashBytes.length;
  const block = Buffer.alloc(fieldsAt + names.length * FIELDS * 8);
  let at = writeU32(block, dirBytes.length, 0);
  at += dirBytes.copy(block, at);
  at = writeU32(block, names.length, at);
  at = writeU32(block, nameBytes.length, at);
  at += nameBytes.copy(block, at);
  at = writeU32(block, hashBytes.length, at);
  hashBytes.copy(block, at);
  const fields = new Float64Array(names.length * FIELDS);
  names.forEach((name, i) => fields.set(rows.get(name)!.key, i * FIELDS));
  block.set(new Uint8Array(fields.buffer), fieldsAt);
  return block;
}

function splitPath(hostPath: string): [string, string] {
  const slash = hostPath.lastIndexOf('/');
  return [hostPath.slice(0, slash), hostPath.slice(slash + 1)];
}

const NO_BLOCKS: ReadonlyMap<string, DirBlock> = new Map();
/** Where `name` is in a decoded block, if it is there. */
function positionOf(block: DecodedBlock, name: string): number | undefined {
  if (block.names[block.next] === name) return block.next++;
  if (block.index === undefined) {
    const index = new Map<string, number>();
    block.names.forEach((n, i) => index.set(n, i));
    block.index = index;
  }
  const i = block.index.get(name);
  if (i !== undefined) block.next = i + 1;
  return i;
}

/** Content hashes keyed by (path, dev, ino, size, mtime, ctime), persisted as one binary file written atomically. */
export class StatCache {
  /** Hashes stored during this run, by directory then name; they win over the loaded file. */
  private readonly updates = new Map<string, Map<string, Row>>();
  private readonly racyMarginMs: number;

  private constructor(
    readonly file: string,
    private loaded: Buffer,
    private blocks: ReadonlyMap<string, DirBlock>,
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
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new StatCache(file, Buffer.alloc(0), NO_BLOCKS, opts);
      throw err;
    }
    // A torn or foreign file only costs re-hashing; it is replaced on the next save.
    const blocks = parseBlocks(buf);
    return blocks === null ? new StatCache(file, Buffer.alloc(0), NO_BLOCKS, opts) : new StatCache(file, buf, blocks, opts);
  }

  /** A directory's loaded records, decoded on first use; a malformed block counts as empty. */
  private decoded(dir: string): DecodedBlock | undefined {
    const block = this.blocks.get(dir);
    if (block === undefined) return undefined;
    block.decoded ??= decodeBlock(this.loaded, block) ?? { next: 0, names: [], hashes: [], fields: new Float64Array(0) };
    return block.decoded;
  }

  /** The remembered hash of `hostPath` if its stat is exactly what it was when hashed. */
  lookup(hostPath: string, st: Stats | BigIntStats): string | undefined {
    const [dir, name] = splitPath(hostPath);
    const key = keyOf(st);
    const updated = this.updates.get(dir)?.get(name);
    if (updated !== undefined) return sameKey(updated.key, key, 0) ? updated.hash : undefined;
    const block = this.decoded(dir);
    const i = block === undefined ? undefined : positionOf(block, name);
    if (block === undefined || i === undefined) return undefined;
    return sameKey(block.fields, key, i * FIELDS) ? block.hashes[i] : undefined;
  }

  store(hostPath: string, st: Stats | BigIntStats, hash: string): void {
    const key = keyOf(st);
    const now = Date.now();
    if (key[4] + this.racyMarginMs > now || key[3] + this.racyMarginMs > now) return;
    if (hash.includes(SEPARATOR) || this.lookup(hostPath, st) === hash) return;
    const [dir, name] = splitPath(hostPath);
    let names = this.updates.get(dir);
    if (names === undefined) this.updates.set(dir, (names = new Map()));
    names.set(name, { key, hash });
  }

  /** How many files have a remembered hash. */
  get size(): number {
    let count = 0;
    for (const dir of new Set([...this.blocks.keys(), ...this.updates.keys()])) count += this.rowsOf(dir).size;
    return count;
  }

  /** A directory's rows, loaded then updated. */
  private rowsOf(dir: string): Map<string, Row> {
    const rows = new Map<string, Row>();
    const block = this.decoded(dir);
    block?.names.forEach((name, i) => {
      rows.set(name, { key: Array.from(block.fields.subarray(i * FIELDS, (i + 1) * FIELDS)), hash: block.hashes[i]! });
    });
    for (const [name, row] of this.updates.get(dir) ?? []) rows.set(name, row);
    return rows;
  }

  /** Writes the cache if anything changed: temp file, fsync, rename. Untouched directories are copied byte for byte. */
  async save(): Promise<void> {
    if (this.updates.size === 0) return;
    const header = Buffer.alloc(HEADER);
    MAGIC.copy(header);
    writeU32(header, BYTE_ORDER_MARK, 8);
    const parts: Buffer[] = [header];
    for (const [dir, block] of this.blocks) {
      if (!this.updates.has(dir)) parts.push(this.loaded.subarray(block.start, block.end));
    }
    for (const dir of this.updates.keys()) parts.push(encodeBlock(dir, this.rowsOf(dir)));
    const written = Buffer.concat(parts);
    await mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, written);
    // Later lookups and saves start from what is now on disk.
    this.loaded = written;
    this.blocks = parseBlocks(written)!;
    this.updates.clear();
  }
}

function sameKey(fields: ArrayLike<number>, key: StatKey, at: number): boolean {
  for (let i = 0; i < FIELDS; i += 1) if (fields[at + i] !== key[i]) return false;
  return true;
}
