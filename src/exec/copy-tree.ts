// Writes copied entries into the destination like `cp -a`: content copied by the kernel, hard links kept, metadata after content.
// Synchronous fs calls on purpose: this runs in the file-op init, a process of its own, where a thread-pool hop per
// syscall (eight per file) costs more than the syscall; the kernel still copies the bytes (copy_file_range).
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  fstatSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readSync,
  readlinkSync,
  symlinkSync,
  unlinkSync,
  writeSync,
  type BigIntStats,
} from 'node:fs';
import { NotSupportedError } from '../errors.js';
import { lgetxattr, llistxattr, lsetxattr, makedev, mknod, S_IFBLK, S_IFCHR, S_IFIFO, splitDev, SysCallError } from '../sys/index.js';
import { CopyDestinationError, CopySourceChangedError } from './copy-errors.js';
import type { Owner } from './copy-mkdir.js';
import type { ModeChange } from './copy-mode.js';

export interface TreeWriteOptions {
  /** --chown, resolved; null keeps the source's owner. */
  readonly owner: Owner | null;
  /** Source files are owned by root in the image (the build context, as BuildKit's client resets uid/gid). */
  readonly resetOwnership: boolean;
  /** --chmod; null keeps the source's mode. */
  readonly mode: ModeChange | null;
}

interface PendingDir {
  readonly target: string;
  readonly source: string;
  readonly stat: BigIntStats;
}

/** xattrs that describe the source's own filesystem, not the file. */
function isPortableXattr(name: string): boolean {
  return !name.startsWith('trusted.overlay.') && !name.startsWith('security.selinux');
}

function isUnsupported(err: unknown): boolean {
  return err instanceof SysCallError && (err.code === 'ENOTSUP' || err.code === 'EOPNOTSUPP');
}

function lstatOrNull(p: string): BigIntStats | null {
  try {
    return lstatSync(p, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** One COPY's writer: remembers inodes for hard links and sets directory metadata once their content is in. */
export class TreeWriter {
  private readonly inodes = new Map<string, string>();
  private readonly dirs: PendingDir[] = [];

  constructor(private readonly opts: TreeWriteOptions) {}

  /**
   * Copies one entry (not its children) from `source` to `target`. `target`'s parent must be a real
   * directory under the destination root; `shownAs` is the container path used in messages.
   */
  async write(stat: BigIntStats, source: string, target: string, shownAs: string): Promise<void> {
    const existing = lstatOrNull(target);
    if (stat.isDirectory()) {
      if (existing === null) mkdirSync(target, { mode: 0o700 });
      else if (!existing.isDirectory()) throw new CopyDestinationError(`cannot copy to non-directory: ${shownAs}`);
      this.dirs.push({ target, source, stat });
      return;
    }
    if (stat.isSocket()) return; // Sockets cannot be copied; Docker's context archiver skips them too.
    if (existing !== null) {
      if (existing.isDirectory()) throw new CopyDestinationError(`cannot replace directory ${shownAs} with a file`);
      unlinkSync(target);
    }
    if (stat.isFile()) {
      const key = `${stat.dev}:${stat.ino}`;
      const first = stat.nlink > 1n ? this.inodes.get(key) : undefined;
      if (first !== undefined) {
        // Another name of a file already copied: link to the copy, which already has its metadata.
        linkSync(first, target);
        return;
      }
      copyVerifiedFile(source, stat, target, shownAs);
      if (stat.nlink > 1n) this.inodes.set(key, target);
    } else if (stat.isSymbolicLink()) {
      symlinkSync(readlinkSync(source), target);
    } else if (stat.isCharacterDevice() || stat.isBlockDevice() || stat.isFIFO()) {
      const type = stat.isCharacterDevice() ? S_IFCHR : stat.isBlockDevice() ? S_IFBLK : S_IFIFO;
      const { major, minor } = splitDev(stat.rdev);
      mknod(target, type | 0o600, type === S_IFIFO ? 0n : makedev(major, minor));
    } else {
      throw new NotSupportedError(`COPY: cannot copy ${shownAs}: unsupported file type (mode ${stat.mode.toString(8)})`);
    }
    this.applyMetadata(stat, source, target);
  }

  /** Sets directory owners, modes and times deepest first, after every file inside was written. */
  async finish(): Promise<void> {
    for (let i = this.dirs.length - 1; i >= 0; i -= 1) {
      const dir = this.dirs[i] as PendingDir;
      this.applyMetadata(dir.stat, dir.source, dir.target);
    }
    this.dirs.length = 0;
  }

  private ownerOf(stat: BigIntStats): Owner {
    if (this.opts.owner !== null) return this.opts.owner;
    if (this.opts.resetOwnership) return { uid: 0, gid: 0 };
    return { uid: Number(stat.uid), gid: Number(stat.gid) };
  }

  private applyMetadata(stat: BigIntStats, source: string, target: string): void {
    const owner = this.ownerOf(stat);
    // chown first: it clears setuid bits and file capabilities, which chmod and the xattrs then restore.
    lchownSync(target, owner.uid, owner.gid);
    if (!stat.isSymbolicLink()) {
      const current = Number(stat.mode & 0o7777n);
      chmodSync(target, this.opts.mode === null ? current : this.opts.mode(current, stat.isDirectory()));
    }
    copyXattrs(source, target);
    lutimesSync(target, Number(stat.atimeNs) / 1e9, Number(stat.mtimeNs) / 1e9);
  }
}

/**
 * Copies a regular file's content, streamed. The source is opened without following a final symlink and
 * must still be the inode the walk saw: a context changed under the build (a file swapped for a link to a
 * host file) fails instead of copying something else.
 */
/** Up to this size a file is copied with one read and one write (cheaper than a copy_file_range setup). */
const SMALL_FILE = 256n * 1024n;

function copySmallFile(fd: number, size: number, target: string): void {
  const buf = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buf, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  const out = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    let put = 0;
    while (put < got) put += writeSync(out, buf, put, got - put);
  } finally {
    closeSync(out);
  }
}

function copyVerifiedFile(source: string, walked: BigIntStats, target: string, shownAs: string): void {
  const fd = openSync(source, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const now = fstatSync(fd, { bigint: true });
    if (now.ino !== walked.ino || now.dev !== walked.dev || !now.isFile()) {
      throw new CopySourceChangedError(`COPY: source of ${shownAs} changed while it was being copied; retry the build`);
    }
    if (now.size <= SMALL_FILE) copySmallFile(fd, Number(now.size), target);
    // Copy from the open descriptor's /proc link, so exactly the verified inode is read.
    else copyFileSync(`/proc/self/fd/${fd}`, target);
  } finally {
    closeSync(fd);
  }
}

function copyXattrs(source: string, target: string): void {
  for (const name of llistxattr(source)) {
    if (!isPortableXattr(name)) continue;
    const value = lgetxattr(source, name);
    if (value === undefined) continue;
    try {
      lsetxattr(target, name, value);
    } catch (err) {
      // A destination filesystem without xattr support keeps the file without them, as BuildKit allows.
      if (!isUnsupported(err)) throw err;
    }
  }
}
