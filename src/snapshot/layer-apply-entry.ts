// Writes archive members into a layer directory in overlay-lower form: whiteouts as char 0:0, opaque dirs by xattr.
// Filesystem calls are synchronous on purpose (see layer-apply-path.ts); only file bodies are awaited as they stream in.
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { lsetxattr, makedev, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../sys/index.js';
import { LayerApplyError } from './layer-apply-error.js';
import { assertRealParentDirs, ensureParentDirs, entryComponents, lstatOrUndefined } from './layer-apply-path.js';
import type { TarEntry, TarHeader } from './layer-apply-tar-reader.js';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

/** Overlay internals: never taken from an archive (a layer must not steer the kernel's overlay logic). */
function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');
}

/** Applies members one by one to an initially empty directory; `finish` sets directory times last. */
export class LayerTreeWriter {
  private readonly dirTimes: { path: string; mtime: number }[] = [];
  private readonly hooks = { onReplacedWhiteout: (dir: string) => this.markOpaque(dir) };

  constructor(
    private readonly root: string,
    private readonly opaqueXattr: string,
  ) {}

  async apply(entry: TarEntry): Promise<void> {
    const { header } = entry;
    const components = entryComponents(header.name);
    const base = components[components.length - 1];
    if (base !== undefined && base.startsWith(WHITEOUT_PREFIX)) {
      this.applyWhiteout(header, components, base);
      return;
    }
    if (components.length === 0) {
      if (header.type !== 'directory') throw new LayerApplyError(`layer member "${header.name}" replaces the layer root with a ${header.type}`);
      this.setMetadata(this.root, header);
      this.dirTimes.push({ path: this.root, mtime: header.mtime });
      return;
    }
    ensureParentDirs(this.root, components, header.name, this.hooks);
    const path = join(this.root, ...components);
    const existing = lstatOrUndefined(path);
    if (existing !== undefined) {
      if (existing.isDirectory() && header.type === 'directory') {
        this.setMetadata(path, header);
        this.dirTimes.push({ path, mtime: header.mtime });
        return;
      }
      // A later member replaces an earlier one of the same name (tar semantics); rm never follows a symlink.
      rmSync(path, { recursive: true, force: true });
    }
    await this.create(entry, path);
  }

  /** Directory mtimes are set after every member, since creating children changes them. */
  finish(): void {
    for (const { path, mtime } of this.dirTimes.reverse()) lutimesSync(path, mtime, mtime);
  }

  private applyWhiteout(header: TarHeader, components: readonly string[], base: string): void {
    const parent = components.slice(0, -1);
    if (base === OPAQUE_MARKER) {
      ensureParentDirs(this.root, [...parent, OPAQUE_MARKER], header.name, this.hooks);
      this.markOpaque(join(this.root, ...parent));
      return;
    }
    // Other ".wh..wh." names are AUFS bookkeeping (plnk, aufs): not part of the filesystem.
    if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return;
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..') throw new LayerApplyError(`layer member "${header.name}" is an invalid whiteout`);
    const target = [...parent, name];
    ensureParentDirs(this.root, target, header.name, this.hooks);
    const path = join(this.root, ...target);
    // A whiteout hides lower layers only; an entry of this same layer under that name stays.
    if (lstatOrUndefined(path) !== undefined) return;
    mknod(path, S_IFCHR, 0n);
  }

  private markOpaque(dir: string): void {
    lsetxattr(dir, this.opaqueXattr, Buffer.from('y'));
  }

  private async create(entry: TarEntry, path: string): Promise<void> {
    const { header } = entry;
    switch (header.type) {
      case 'directory':
        mkdirSync(path, { mode: 0o700 });
        this.setMetadata(path, header);
        this.dirTimes.push({ path, mtime: header.mtime });
        return;
      case 'file':
        await this.writeFile(entry, path);
        return;
      case 'symlink':
        symlinkSync(header.linkname ?? '', path);
        lchownSync(path, header.uid, header.gid);
        this.setXattrs(path, header);
        lutimesSync(path, header.mtime, header.mtime);
        return;
      case 'link':
        this.createHardLink(header, path);
        return;
      case 'char':
      case 'block':
      case 'fifo': {
        const typeBits = header.type === 'char' ? S_IFCHR : header.type === 'block' ? S_IFBLK : S_IFIFO;
        mknod(path, typeBits | 0o600, makedev(header.devmajor ?? 0, header.devminor ?? 0));
        this.setMetadata(path, header);
        lutimesSync(path, header.mtime, header.mtime);
        return;
      }
      default: {
        const unknown: never = header.type;
        throw new LayerApplyError(`layer member "${header.name}" has unsupported type ${String(unknown)}`);
      }
    }
  }

  private async writeFile(entry: TarEntry, path: string): Promise<void> {
    const { header } = entry;
    // O_EXCL|O_NOFOLLOW: the name was just cleared, so anything there now (a symlink above all) is refused.
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      for await (const chunk of entry.body) {
        let offset = 0;
        while (offset < chunk.length) offset += writeSync(fd, chunk, offset);
      }
      fchownSync(fd, header.uid, header.gid);
      fchmodSync(fd, header.mode);
      this.setXattrs(path, header);
      futimesSync(fd, header.mtime, header.mtime);
    } finally {
      closeSync(fd);
    }
  }

  private createHardLink(header: TarHeader, path: string): void {
    const targetComponents = entryComponents(header.linkname ?? '');
    if (targetComponents.length === 0) throw new LayerApplyError(`hard link "${header.name}" has no target`);
    assertRealParentDirs(this.root, targetComponents, header.name);
    const target = join(this.root, ...targetComponents);
    const stat = lstatOrUndefined(target);
    if (stat === undefined) throw new LayerApplyError(`hard link "${header.name}" points to "${header.linkname}", which is not in this layer`);
    if (stat.isDirectory()) throw new LayerApplyError(`hard link "${header.name}" points to the directory "${header.linkname}"`);
    // link(2) does not follow a symlink target: linking to a symlink links the symlink itself, inside the root.
    linkSync(target, path);
  }

  /** Ownership first: chown clears set-id bits and security.capability, so mode and xattrs come after it. */
  private setMetadata(path: string, header: TarHeader): void {
    lchownSync(path, header.uid, header.gid);
    chmodSync(path, header.mode);
    this.setXattrs(path, header);
  }

  private setXattrs(path: string, header: TarHeader): void {
    if (header.xattrs === undefined) return;
    for (const [name, value] of header.xattrs) {
      if (!isOverlayXattr(name)) lsetxattr(path, name, value);
    }
  }
}
