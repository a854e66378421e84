// Streaming tar reader (ustar, PAX, GNU long names) that keeps xattr values as raw bytes and PAX uid/gid/mtime.
import { KilnError } from '../errors.js';

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';

/** One archive member's metadata, as the tar writer and reader exchange it. */
export interface TarHeader {
  /** Path as stored in the archive (no trailing "/" for directories). */
  readonly name: string;
  readonly type: TarEntryType;
  /** Permission bits only (0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Byte length of the body; 0 for everything but files. */
  readonly size: number;
  /** Seconds since the epoch (fractional only when a PAX record says so). */
  readonly mtime: number;
  /** Symlink target, or the archive path a hard link points to. */
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  /** Extended attributes (PAX SCHILY.xattr.*), values kept as raw bytes. */
  readonly xattrs?: ReadonlyMap<string, Buffer>;
}

export interface TarEntry {
  readonly header: TarHeader;
  /** The file's bytes; whatever the consumer leaves unread is skipped before the next entry. */
  readonly body: AsyncIterable<Buffer>;
}

/** The input is not a tar archive we can read (bad checksum, truncated, unsupported member type). */
export class TarFormatError extends KilnError {}

const BLOCK = 512;
const MAX_META_SIZE = 8 * 1024 * 1024;

/** Pulls exact byte counts out of an async chunk source without copying more than needed. */
class ByteSource {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  constructor(private readonly iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array>) {}

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.iterator.next();
    if (next.done === true) {
      this.ended = true;
      return false;
    }
    const value = next.value;
    const chunk = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return true;
  }

  /** Exactly `n` bytes; undefined at a clean end of input; throws if the input stops part-way. */
  async readExact(n: number): Promise<Buffer | undefined> {
    while (this.buffered < n) {
      if (!(await this.pull())) {
        if (this.buffered === 0) return undefined;
        throw new TarFormatError(`tar archive is truncated (needed ${n} bytes, got ${this.buffered})`);
      }
    }
    return this.take(n);
  }

  /** Up to `max` (> 0) bytes, as they arrive; throws on end of input. */
  async readSome(max: number): Promise<Buffer> {
    while (this.buffered === 0) {
      if (!(await this.pull())) throw new TarFormatError('tar archive is truncated inside a file body');
    }
    return this.take(Math.min(max, this.chunks[0]!.length));
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) left -= (await this.readSome(left)).length;
  }

  /** Reads and discards the rest of the input (so digests over the whole stream are complete). */
  async drain(): Promise<void> {
    this.chunks.length = 0;
    this.buffered = 0;
    while (await this.pull()) {
      this.chunks.length = 0;
      this.buffered = 0;
    }
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const chunk = this.chunks[0]!;
      if (chunk.length <= left) {
        parts.push(chunk);
        this.chunks.shift();
        left -= chunk.length;
      } else {
        parts.push(chunk.subarray(0, left));
        this.chunks[0] = chunk.subarray(left);
        left = 0;
      }
    }
    this.buffered -= n;
    return Buffer.concat(parts, n);
  }
}

interface RawHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
}

/** Yields the members of a tar stream in order. Reads the input to its end, trailing padding included. */
export async function* readTar(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const bytes = new ByteSource(Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]());
  const globalPax = new Map<string, Buffer>();
  let pax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;

  for (;;) {
    const block = await bytes.readExact(BLOCK);
    if (block === undefined || isZeroBlock(block)) break;
    const raw = decodeHeader(block);

    if (raw.typeflag === 'x' || raw.typeflag === 'g' || raw.typeflag === 'L' || raw.typeflag === 'K') {
      if (raw.size > MAX_META_SIZE) throw new TarFormatError(`tar metadata member of ${raw.size} bytes is too large`);
      const data = (await bytes.readExact(raw.size)) ?? Buffer.alloc(0);
      await bytes.skip(padding(raw.size));
      if (raw.typeflag === 'x') pax = parsePax(data);
      else if (raw.typeflag === 'g') for (const [k, v] of parsePax(data)) globalPax.set(k, v);
      else if (raw.typeflag === 'L') longName = cString(data);
      else longLink = cString(data);
      continue;
    }

    const records = new Map(globalPax);
    if (pax !== undefined) for (const [k, v] of pax) records.set(k, v);
    pax = undefined;
    const header = buildHeader(raw, records, longName, longLink);
    longName = undefined;
    longLink = undefined;

    // Like Go's archive/tar: only regular files carry data, whatever the size field of other types says.
    const dataSize = header.type === 'file' ? header.size : 0;
    const state = { remaining: dataSize };
    yield { header, body: bodyOf(bytes, state) };
    await bytes.skip(state.remaining);
    await bytes.skip(padding(dataSize));
  }
  await bytes.drain();
}

async function* bodyOf(bytes: ByteSource, state: { remaining: number }): AsyncGenerator<Buffer> {
  while (state.remaining > 0) {
    const chunk = await bytes.readSome(Math.min(state.remaining, 1024 * 1024));
    state.remaining -= chunk.length;
    yield chunk;
  }
}

function buildHeader(raw: RawHeader, pax: Map<string, Buffer>, longName?: string, longLink?: string): TarHeader {
  const text = (key: string) => pax.get(key)?.toString('utf8');
  const num = (key: string, fallback: number) => {
    const value = text(key);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new TarFormatError(`bad PAX record ${key}=${value} for ${raw.name}`);
    return parsed;
  };
  let name = text('path') ?? longName ?? raw.name;
  let type = typeOf(raw.typeflag, name);
  if (name.endsWith('/') && name.length > 1) {
    if (type === 'file') type = 'directory';
    name = name.replace(/\/+$/, '');
  }
  const xattrs = new Map<string, Buffer>();
  for (const [key, value] of pax) {
    if (key.startsWith('SCHILY.xattr.')) xattrs.set(key.slice('SCHILY.xattr.'.length), value);
  }
  const linkname = text('linkpath') ?? longLink ?? raw.linkname;
  return {
    name,
    type,
    mode: raw.mode & 0o7777,
    uid: num('uid', raw.uid),
    gid: num('gid', raw.gid),
    size: type === 'file' ? num('size', raw.size) : 0,
    mtime: num('mtime', raw.mtime),
    ...(linkname !== '' ? { linkname } : {}),
    ...(type === 'char' || type === 'block' ? { devmajor: raw.devmajor, devminor: raw.devminor } : {}),
    ...(xattrs.size > 0 ? { xattrs } : {}),
  };
}

function typeOf(flag: string, name: string): TarEntryType {
  switch (flag) {
    case '0':
    case '\0':
    case '7':
      return 'file';
    case '1':
      return 'link';
    case '2':
      return 'symlink';
    case '3':
      return 'char';
    case '4':
      return 'block';
    case '5':
      return 'directory';
    case '6':
      return 'fifo';
    default:
      throw new TarFormatError(`tar member ${name} has unsupported type flag ${JSON.stringify(flag)}`);
  }
}

function decodeHeader(block: Buffer): RawHeader {
  const stored = checksumField(block);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  if (stored !== unsigned && stored !== signed) {
    throw new TarFormatError('invalid tar header checksum: the input is not a tar archive (or is corrupt)');
  }
  let name = cString(block.subarray(0, 100));
  const magic = block.subarray(257, 263).toString('latin1');
  if (magic === 'ustar\0') {
    const prefix = cString(block.subarray(345, 500));
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  return {
    name,
    mode: parseNumber(block, 100, 8),
    uid: parseNumber(block, 108, 8),
    gid: parseNumber(block, 116, 8),
    size: parseNumber(block, 124, 12),
    mtime: parseNumber(block, 136, 12),
    typeflag: String.fromCharCode(block[156]!),
    linkname: cString(block.subarray(157, 257)),
    devmajor: parseNumber(block, 329, 8),
    devminor: parseNumber(block, 337, 8),
  };
}

/** The stored checksum, or NaN when the field is not even octal (the input is then surely not a tar). */
function checksumField(block: Buffer): number {
  const text = block.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim();
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : Number.NaN;
}

/** Octal (space/NUL padded) or GNU base-256 numeric field. */
function parseNumber(block: Buffer, offset: number, length: number): number {
  const field = block.subarray(offset, offset + length);
  if ((field[0]! & 0x80) !== 0) {
    if (field[0] === 0xff) throw new TarFormatError('negative base-256 number in tar header');
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    return value;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`invalid octal number ${JSON.stringify(text)} in tar header`);
  return parseInt(text, 8);
}

/** PAX extended header records ("LEN key=value\n"); values stay bytes so binary xattrs survive. */
function parsePax(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number(data.subarray(at, space).toString('latin1'));
    if (!Number.isInteger(length) || length <= space - at || at + length > data.length) {
      throw new TarFormatError('malformed PAX extended header record');
    }
    const record = data.subarray(space + 1, at + length - 1);
    const equals = record.indexOf(0x3d);
    if (equals < 0) throw new TarFormatError('malformed PAX extended header record (no "=")');
    records.set(record.subarray(0, equals).toString('utf8'), Buffer.from(record.subarray(equals + 1)));
    at += length;
  }
  return records;
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString('utf8');
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
