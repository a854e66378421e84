// Walks a directory tree into tar members in a fixed order; in overlay mode, turns an upper dir's whiteouts into OCI ones.
// Filesystem calls are synchronous on purpose: a few microseconds each on a local disk, where a thread-pool round
// trip per lstat/open/read made walking many small files several times slower. Consumers still get chunks lazily.
import { closeSync, constants, lstatSync, openSync, readdirSync, readlinkSync, readSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { NotSupportedError } from '../errors.js';
import type { TarHeader } from '../snapshot/index.js';
import { lgetxattr, llistxattr, splitDev } from '../sys/index.js';
import type { TarWriteEntry } from './tar-writer.js';

export type WalkMode =
  /** An overlay upper dir: char 0:0 devices are whiteouts, `*.overlay.opaque=y` dirs are opaque. */
  | 'overlay-upper'
  /** A plain root filesystem: every node is what it is. */
  | 'rootfs';

const OPAQUE_XATTRS = ['trusted.overlay.opaque', 'user.overlay.opaque'];
const READ_CHUNK = 256 * 1024;

/** Xattrs that describe the host, not the image: overlay bookkeeping and SELinux labels. */
function isHostXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.') || name === 'security.selinux';
}

/**
 * Yields tar members for everything below `root` (not `root` itself), parents before children, names sorted
 * by code unit at each level. Hard links are found by (dev, ino) after whiteouts, because the kernel makes all
 * whiteouts of an upper dir links of one inode.
 */
export async function* walkTree(root: string, mode: WalkMode, signal?: AbortSignal): AsyncGenerator<TarWriteEntry> {
  const firstLinkName = new Map<string, string>();

  async function* walkDir(dir: string, prefix: string): AsyncGenerator<TarWriteEntry> {
    const names = readdirSync(dir).sort();
    for (const name of names) {
      signal?.throwIfAborted();
      const path = join(dir, name);
      const archiveName = prefix + name;
      const stat = lstatNamed(path, name);
      const base = baseHeader(archiveName, stat);

      if (mode === 'overlay-upper' && stat.isCharacterDevice() && stat.rdev === 0n) {
        // Whiteout metadata carries no meaning, so it is fixed: identical deletions give identical bytes.
        yield { header: { name: `${prefix}.wh.${name}`, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime: 0 } };
        continue;
      }
      if (stat.isDirectory()) {
        const xattrs = readXattrs(path);
        yield { header: { ...base, type: 'directory', ...xattrs.exported } };
        if (mode === 'overlay-upper' && xattrs.opaque) {
          yield { header: { name: `${archiveName}/.wh..wh..opq`, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime: 0 } };
        }
        yield* walkDir(path, `${archiveName}/`);
        continue;
      }
      if (stat.isSocket()) continue; // tar cannot hold sockets; docker and containerd skip them too.

      if (stat.nlink > 1n) {
        const key = `${stat.dev}:${stat.ino}`;
        const first = firstLinkName.get(key);
        if (first !== undefined) {
          yield { header: { ...base, type: 'link', linkname: first } };
          continue;
        }
        firstLinkName.set(key, archiveName);
      }
      const { exported } = readXattrs(path);
      if (stat.isFile()) {
        const size = Number(stat.size);
        yield {
          header: { ...base, type: 'file', size, ...exported },
          body: () => fileChunks(path),
        };
      } else if (stat.isSymbolicLink()) {
        yield { header: { ...base, type: 'symlink', linkname: readlinkSync(path), ...exported } };
      } else if (stat.isCharacterDevice() || stat.isBlockDevice()) {
        const { major, minor } = splitDev(stat.rdev);
        const type = stat.isCharacterDevice() ? 'char' : 'block';
        yield { header: { ...base, type, devmajor: major, devminor: minor, ...exported } };
      } else if (stat.isFIFO()) {
        yield { header: { ...base, type: 'fifo', ...exported } };
      }
    }
  }

  yield* walkDir(root, '');
}

function baseHeader(name: string, stat: BigIntStats): Omit<TarHeader, 'type'> {
  return {
    name,
    mode: Number(stat.mode & 0o7777n),
    uid: Number(stat.uid),
    gid: Number(stat.gid),
    size: 0,
    // Whole seconds, like BuildKit's tars: sub-second times and atime/ctime are left out.
    mtime: Number(stat.mtimeNs / 1_000_000_000n),
  };
}

function readXattrs(path: string): { exported: { xattrs?: ReadonlyMap<string, Buffer> }; opaque: boolean } {
  const names = llistxattr(path);
  if (names.length === 0) return { exported: {}, opaque: false };
  const opaque = OPAQUE_XATTRS.some((name) => names.includes(name) && lgetxattr(path, name)?.toString('latin1') === 'y');
  const xattrs = new Map<string, Buffer>();
  for (const name of names.filter((n) => !isHostXattr(n)).sort()) {
    const value = lgetxattr(path, name);
    if (value !== undefined) xattrs.set(name, value);
  }
  return { exported: xattrs.size > 0 ? { xattrs } : {}, opaque };
}

function lstatNamed(path: string, name: string): BigIntStats {
  try {
    return lstatSync(path, { bigint: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && name.includes('\uFFFD')) {
      throw new NotSupportedError(`file names that are not valid UTF-8 cannot be archived yet: ${path}`);
    }
    throw error;
  }
}

/** A file's bytes in chunks. O_NOFOLLOW: it was a regular file when stat'ed; never read through a link that replaced it. */
function* fileChunks(path: string): Generator<Buffer> {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    for (;;) {
      const buffer = Buffer.allocUnsafe(READ_CHUNK);
      const bytesRead = readSync(fd, buffer, 0, READ_CHUNK, null);
      if (bytesRead === 0) return;
      yield bytesRead === READ_CHUNK ? buffer : buffer.subarray(0, bytesRead);
    }
  } finally {
    closeSync(fd);
  }
}
