// Deterministic tar writer: USTAR headers, PAX records only where USTAR cannot hold a value (like Go's archive/tar).
import type { TarHeader } from '../snapshot/index.js';
import { KilnError } from '../errors.js';

/** An archive member: a header, and for files the bytes (exactly `header.size` of them). */
export interface TarWriteEntry {
  readonly header: TarHeader;
  /** Opened lazily, only once the entry is written, so a long walk never holds many files open. */
  readonly body?: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

export class TarWriteError extends KilnError {}

const BLOCK = 512;
const TYPEFLAG: Readonly<Record<TarHeader['type'], string>> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  directory: '5',
  fifo: '6',
};
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;
const ZERO_BLOCKS = Buffer.alloc(BLOCK * 2);

/** Serializes entries into tar bytes; ends with the two zero blocks. Chunks are yielded as they are ready. */
export async function* packTar(entries: AsyncIterable<TarWriteEntry> | Iterable<TarWriteEntry>): AsyncGenerator<Buffer> {
  for await (const entry of entries) {
    yield encodeTarHeader(entry.header);
    if (entry.header.type !== 'file') continue;
    let written = 0;
    if (entry.body !== undefined) {
      for await (const chunk of entry.body()) {
        written += chunk.byteLength;
        if (written > entry.header.size) break;
        yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
    }
    if (written !== entry.header.size) {
      throw new TarWriteError(
        `${entry.header.name} changed size while it was being archived (expected ${entry.header.size} bytes, read ${written})`,
      );
    }
    const pad = padding(written);
    if (pad > 0) yield ZERO_BLOCKS.subarray(0, pad);
  }
  yield ZERO_BLOCKS;
}

/** The header block(s) of one member: a PAX extended header first when some value does not fit USTAR. */
export function encodeTarHeader(header: TarHeader): Buffer {
  const pax = new Map<string, Buffer>();
  const name = header.type === 'directory' ? `${header.name}/` : header.name;
  const split = splitUstarName(name);
  if (split === undefined) pax.set('path', Buffer.from(name, 'utf8'));
  const linkname = header.linkname ?? '';
  if (!fitsUstarString(linkname, 100)) pax.set('linkpath', Buffer.from(linkname, 'utf8'));
  if (header.uid > MAX_OCTAL_7) pax.set('uid', Buffer.from(String(header.uid)));
  if (header.gid > MAX_OCTAL_7) pax.set('gid', Buffer.from(String(header.gid)));
  if (header.size > MAX_OCTAL_11) pax.set('size', Buffer.from(String(header.size)));
  const mtime = Math.floor(header.mtime);
  if (mtime < 0 || mtime > MAX_OCTAL_11) pax.set('mtime', Buffer.from(String(mtime)));
  if (header.xattrs !== undefined) {
    for (const [key, value] of header.xattrs) pax.set(`SCHILY.xattr.${key}`, value);
  }

  const block = ustarBlock({
    name: split?.name ?? truncateAscii(name, 100),
    prefix: split?.prefix ?? '',
    mode: header.mode & 0o7777,
    uid: header.uid > MAX_OCTAL_7 ? 0 : header.uid,
    gid: header.gid > MAX_OCTAL_7 ? 0 : header.gid,
    size: header.size > MAX_OCTAL_11 ? 0 : header.size,
    mtime: pax.has('mtime') ? 0 : mtime,
    typeflag: TYPEFLAG[header.type],
    linkname: pax.has('linkpath') ? truncateAscii(linkname, 100) : linkname,
    devmajor: header.devmajor ?? 0,
    devminor: header.devminor ?? 0,
  });
  if (pax.size === 0) return block;

  const data = encodePax(pax);
  const paxName = truncateAscii(paxHeaderName(name), 100);
  const paxBlock = ustarBlock({
    name: paxName,
    prefix: '',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: data.length,
    mtime: 0,
    typeflag: 'x',
    linkname: '',
    devmajor: 0,
    devminor: 0,
  });
  return Buffer.concat([paxBlock, data, Buffer.alloc(padding(data.length)), block]);
}

interface UstarFields {
  name: string;
  prefix: string;
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

function ustarBlock(f: UstarFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(f.name, 0, 100, 'latin1');
  writeOctal(block, 100, 8, f.mode);
  writeOctal(block, 108, 8, f.uid);
  writeOctal(block, 116, 8, f.gid);
  writeOctal(block, 124, 12, f.size);
  writeOctal(block, 136, 12, f.mtime);
  block.write(f.typeflag, 156, 1, 'latin1');
  block.write(f.linkname, 157, 100, 'latin1');
  block.write('ustar\0' + '00', 257, 8, 'latin1');
  // uname/gname stay empty: ownership is numeric, and host user names must not leak into layers.
  writeOctal(block, 329, 8, f.devmajor);
  writeOctal(block, 337, 8, f.devminor);
  block.write(f.prefix, 345, 155, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i]!;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return block;
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8).padStart(length - 1, '0');
  if (digits.length > length - 1) throw new TarWriteError(`value ${value} does not fit a ${length}-byte tar field`);
  block.write(digits + '\0', offset, length, 'latin1');
}

/** USTAR holds a name of up to 100 bytes, or a prefix (≤155) plus "/" plus a name (≤100); ASCII only. */
function splitUstarName(name: string): { name: string; prefix: string } | undefined {
  if (!isAscii(name)) return undefined;
  if (name.length <= 100) return { name, prefix: '' };
  // Split at the first "/" that leaves the name part within 100 bytes.
  for (let i = name.indexOf('/'); i >= 0 && i <= 155; i = name.indexOf('/', i + 1)) {
    const rest = name.slice(i + 1);
    if (rest.length <= 100 && rest.length > 0) return { prefix: name.slice(0, i), name: rest };
  }
  return undefined;
}

function fitsUstarString(value: string, max: number): boolean {
  return value.length <= max && isAscii(value);
}

function isAscii(value: string): boolean {
  return /^[\x01-\x7f]*$/.test(value);
}

function truncateAscii(value: string, max: number): string {
  return value.replace(/[^\x01-\x7f]/g, '_').slice(0, max);
}

/** Where Go's archive/tar names PAX headers: DIR/PaxHeaders.0/BASE. */
function paxHeaderName(name: string): string {
  const trimmed = name.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  const dir = slash < 0 ? '' : trimmed.slice(0, slash + 1);
  return `${dir}PaxHeaders.0/${trimmed.slice(slash + 1)}`;
}

/** PAX records sorted by key, each "LEN key=value\n" where LEN counts its own digits. */
function encodePax(records: Map<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const key of [...records.keys()].sort()) {
    const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), records.get(key)!, Buffer.from('\n')]);
    const digits = String(body.length).length;
    let length = body.length + digits;
    if (String(length).length !== digits) length += 1;
    parts.push(Buffer.from(String(length), 'latin1'), body);
  }
  return Buffer.concat(parts);
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
