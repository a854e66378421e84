// ADD of a local tar archive: detect it (plain, gzip, bzip2, xz, zstd) and extract it into the destination, never outside the root.
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { NotSupportedError } from '../errors.js';
import { cleanPath } from '../disk/path-pattern.js';
import { resolveInRoot } from '../disk/resolve-in-root.js';
import { makedev, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../sys/index.js';
import { ArchiveBreakoutError } from './copy-errors.js';
import { locateTool } from './host-tools.js';
import { mkdirAllInRoot, type Owner } from './copy-mkdir.js';

export type ArchiveCompression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

const MAGIC: readonly [ArchiveCompression, readonly number[]][] = [
  ['gzip', [0x1f, 0x8b]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

const TOOLS: Readonly<Record<'bzip2' | 'xz' | 'zstd', string>> = { bzip2: 'bzip2', xz: 'xz', zstd: 'zstd' };

/** A tar header block: its checksum field must equal the byte sum with that field read as spaces. */
function isTarHeader(block: Buffer): boolean {
  if (block.length < 512) return false;
  const field = block.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/g, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i += 1) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  return sum === parseInt(field, 8);
}

async function readHead(stream: Readable, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      total += (chunk as Buffer).length;
      if (total >= size) break;
    }
  } catch {
    // A stream that is not valid data for its decompressor is simply not an archive (Docker copies it as a file).
    return Buffer.alloc(0);
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, size);
}

/** The archive's bytes, decompressed. Streams: nothing is held in memory beyond a chunk. */
async function openDecompressed(hostPath: string, compression: ArchiveCompression, shownAs: string): Promise<Readable> {
  const file = createReadStream(hostPath);
  if (compression === 'none') return file;
  const out = new PassThrough();
  if (compression === 'gzip') {
    pipeline(file, createGunzip(), out).catch((err: unknown) => out.destroy(err as Error));
    return out;
  }
  const tool = locateTool(TOOLS[compression]);
  if (tool === undefined) {
    file.destroy();
    throw new NotSupportedError(`ADD ${shownAs}: ${compression}-compressed archives need the "${TOOLS[compression]}" program, which is not installed`);
  }
  const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
  pipeline(file, child.stdin).catch((err: unknown) => out.destroy(err as Error));
  pipeline(child.stdout, out).catch((err: unknown) => out.destroy(err as Error));
  child.on('close', (code) => {
    if (code !== 0) out.destroy(new Error(`ADD ${shownAs}: ${tool} -dc exited with status ${code}`));
  });
  // The child may be killed when the reader stops early (detection reads only a header).
  out.on('close', () => child.kill());
  return out;
}

/** How a local ADD source should be unpacked, or null when it is not a tar archive (then it is copied as a file). */
export async function detectArchive(hostPath: string, shownAs: string): Promise<ArchiveCompression | null> {
  const fh = await open(hostPath, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  const compressed = MAGIC.find(([, magic]) => magic.every((b, i) => head[i] === b));
  if (compressed === undefined) return isTarHeader(head) ? 'none' : null;
  const kind = compressed[0];
  const tarHead = await readHead(await openDecompressed(hostPath, kind, shownAs), 512);
  return isTarHeader(tarHead) ? kind : null;
}

interface PendingDir {
  readonly target: string;
  readonly mode: number;
  readonly owner: Owner;
  readonly mtime: Date;
}

/** A tar entry name as a path relative to the extraction dir; throws when it climbs out of it (Docker's breakout check). */
function entryRel(archive: string, name: string): string {
  const cleaned = cleanPath(name);
  const rel = cleaned.startsWith('/') ? cleaned.slice(1) : cleaned;
  if (rel === '..' || rel.startsWith('../')) throw new ArchiveBreakoutError(archive, name);
  return rel === '.' ? '' : rel;
}

/**
 * Extracts the archive at `hostPath` into the container directory `destDir` of `root`.
 * Every entry's parent is resolved inside root (symlinks from the image or from earlier entries cannot
 * lead out of it); names and link targets that climb out of destDir are refused.
 */
export async function extractArchive(opts: {
  readonly root: string;
  readonly destDir: string;
  readonly hostPath: string;
  readonly compression: ArchiveCompression;
  readonly shownAs: string;
  readonly owner: Owner | null;
}): Promise<void> {
  const { root, destDir, shownAs } = opts;
  await mkdirAllInRoot(root, destDir, 0o755, opts.owner ?? { uid: 0, gid: 0 });
  const input = await openDecompressed(opts.hostPath, opts.compression, shownAs);
  const extract = tar.extract();
  const feeding = pipeline(input, extract);
  // Awaited after the entries; until then a failure surfaces through the iterator instead.
  feeding.catch(() => undefined);
  const dirs: PendingDir[] = [];
  for await (const entry of extract) {
    const h = entry.header;
    const rel = entryRel(shownAs, h.name);
    if (rel === '' && h.type !== 'directory') {
      entry.resume();
      continue;
    }
    const containerPath = rel === '' ? destDir : `${destDir.replace(/\/$/, '')}/${rel}`;
    const parentHost = await mkdirAllInRoot(root, path.posix.dirname(containerPath), 0o755, { uid: 0, gid: 0 });
    const target = rel === '' ? await resolveInRoot(root, destDir) : path.join(parentHost, path.posix.basename(containerPath));
    const owner = opts.owner ?? { uid: h.uid ?? 0, gid: h.gid ?? 0 };
    const mode = (h.mode ?? 0o644) & 0o7777;
    const mtime = h.mtime ?? new Date(0);
    const existing = await lstat(target).catch(() => null);
    if (existing !== null && !(existing.isDirectory() && h.type === 'directory')) await rm(target, { recursive: true, force: true });
    switch (h.type) {
      case 'directory':
        if (existing === null || !existing.isDirectory()) await mkdir(target, { mode: 0o700 });
        dirs.push({ target, mode, owner, mtime });
        entry.resume();
        continue;
      case 'file':
      case 'contiguous-file':
      case undefined:
      case null:
        await pipeline(entry, createWriteStream(target, { mode: 0o600 }));
        break;
      case 'symlink': {
        const linkname = h.linkname ?? '';
        // A relative target may not climb out of the extraction dir (Docker's rule); absolute ones resolve inside the root later.
        if (!linkname.startsWith('/')) entryRel(shownAs, path.posix.join(path.posix.dirname(rel), linkname));
        await symlink(linkname, target);
        entry.resume();
        break;
      }
      case 'link': {
        const linkRel = entryRel(shownAs, h.linkname ?? '');
        const linkHost = await resolveInRoot(root, `${destDir.replace(/\/$/, '')}/${linkRel}`, { followFinal: false });
        await link(linkHost, target);
        entry.resume();
        continue;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        const type = h.type === 'fifo' ? S_IFIFO : h.type === 'block-device' ? S_IFBLK : S_IFCHR;
        mknod(target, type | 0o600, h.type === 'fifo' ? 0n : makedev(h.devmajor ?? 0, h.devminor ?? 0));
        entry.resume();
        break;
      }
      default:
        entry.resume();
        throw new NotSupportedError(`ADD ${shownAs}: archive entry ${h.name} has unsupported type ${String(h.type)}`);
    }
    await lchown(target, owner.uid, owner.gid);
    if (h.type !== 'symlink') await chmod(target, mode);
    await lutimes(target, mtime, mtime);
  }
  await feeding;
  for (let i = dirs.length - 1; i >= 0; i -= 1) {
    const d = dirs[i] as PendingDir;
    await lchown(d.target, d.owner.uid, d.owner.gid);
    await chmod(d.target, d.mode);
    await lutimes(d.target, d.mtime, d.mtime);
  }
}
