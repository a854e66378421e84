// Writes archive members into a layer directory in overlay-lower form: whiteouts as char 0:0, opaque dirs by xattr.
import { constants } from 'node:fs';
import { chmod, lchown, link, lutimes, mkdir, open, rm, symlink } from 'node:fs/promises';
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
      await this.applyWhiteout(header, components, base);
      return;
    }
    if (components.length === 0) {
      if (header.type !== 'directory') throw new LayerApplyError(`layer member "${header.name}" replaces the layer root with a ${header.type}`);
      await this.setMetadata(this.root, header);
      this.dirTimes.push({ path: this.root, mtime: header.mtime });
      return;
    }
    await ensureParentDirs(this.root, components, header.name, this.hooks);
    const path = join(this.root, ...components);
    const existing = await lstatOrUndefined(path);
    if (existing !== undefined) {
      if (existing.isDirectory() && header.type === 'directory') {
        await this.setMetadata(path, header);
        this.dirTimes.push({ path, mtime: header.mtime });
        return;
      }
      // A later member replaces an earlier one of the same name (tar semantics); rm never follows a symlink.
      await rm(path, { recursive: true, force: true });
    }
    await this.create(entry, path);
  }

  /** Directory mtimes are set after every member, since creating children changes them. */
  async finish(): Promise<void> {
    for (const { path, mtime } of this.dirTimes.reverse()) await lutimes(path, mtime, mtime);
  }

  private async applyWhiteout(header: TarHeader, components: readonly string[], base: string): Promise<void> {
    const parent = components.slice(0, -1);
    if (base === OPAQUE_MARKER) {
      await ensureParentDirs(this.root, [...parent, OPAQUE_MARKER], header.name, this.hooks);
      this.markOpaque(join(this.root, ...parent));
      return;
    }
    // Other ".wh..wh." names are AUFS bookkeeping (plnk, aufs): not part of the filesystem.
    if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return;
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..') throw new LayerApplyError(`layer member "${header.name}" is an invalid whiteout`);
    const target = [...parent, name];
    await ensureParentDirs(this.root, target, header.name, this.hooks);
    const path = join(this.root, ...target);
    // A whiteout hides lower layers only; an entry of this same layer under that name stays.
    if ((await lstatOrUndefined(path)) !== undefined) return;
    mknod(path, S_IFCHR, 0n);
  }

  private markOpaque(dir: string): void {
    lsetxattr(dir, this.opaqueXattr, Buffer.from('y'));
  }

  private async create(entry: TarEntry, path: string): Promise<void> {
    const { header } = entry;
    switch (header.type) {
      case 'directory':
        await mkdir(path, { mode: 0o700 });
        await this.setMetadata(path, header);
        this.dirTimes.push({ path, mtime: header.mtime });
        return;
      case 'file':
        await this.writeFile(entry, path);
        return;
      case 'symlink':
        await symlink(header.linkname ?? '', path);
        await lchown(path, header.uid, header.gid);
        this.setXattrs(path, header);
        await lutimes(path, header.mtime, header.mtime);
        return;
      case 'link':
        await this.createHardLink(header, path);
        return;
      case 'char':
      case 'block':
      case 'fifo': {
        const typeBits = header.type === 'char' ? S_IFCHR : header.type === 'block' ? S_IFBLK : S_IFIFO;
        mknod(path, typeBits | 0o600, makedev(header.devmajor ?? 0, header.devminor ?? 0));
        await this.setMetadata(path, header);
        await lutimes(path, header.mtime, header.mtime);
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
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      for await (const chunk of entry.body) {
        let offset = 0;
        while (offset < chunk.length) offset += (await handle.write(chunk, offset)).bytesWritten;
      }
      await handle.chown(header.uid, header.gid);
      await handle.chmod(header.mode);
      this.setXattrs(path, header);
      await handle.utimes(header.mtime, header.mtime);
    } finally {
      await handle.close();
    }
  }

  private async createHardLink(header: TarHeader, path: string): Promise<void> {
    const targetComponents = entryComponents(header.linkname ?? '');
    if (targetComponents.length === 0) throw new LayerApplyError(`hard link "${header.name}" has no target`);
    await assertRealParentDirs(this.root, targetComponents, header.name);
    const target = join(this.root, ...targetComponents);
    const stat = await lstatOrUndefined(target);
    if (stat === undefined) throw new LayerApplyError(`hard link "${header.name}" points to "${header.linkname}", which is not in this layer`);
    if (stat.isDirectory()) throw new LayerApplyError(`hard link "${header.name}" points to the directory "${header.linkname}"`);
    // link(2) does not follow a symlink target: linking to a symlink links the symlink itself, inside the root.
    await link(target, path);
  }

  /** Ownership first: chown clears set-id bits and security.capability, so mode and xattrs come after it. */
  private async setMetadata(path: string, header: TarHeader): Promise<void> {
    await lchown(path, header.uid, header.gid);
    await chmod(path, header.mode);
    this.setXattrs(path, header);
  }

  private setXattrs(path: string, header: TarHeader): void {
    if (header.xattrs === undefined) return;
    for (const [name, value] of header.xattrs) {
      if (!isOverlayXattr(name)) lsetxattr(path, name, value);
    }
  }
}
