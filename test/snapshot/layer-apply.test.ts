import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createReadStream, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { packTar, writeLayerFromUpperDir, type TarWriteEntry } from '../../src/exporter/index.js';
import { applyLayer, LayerApplyError, TarFormatError } from '../../src/snapshot/index.js';
import { lgetxattr, llistxattr, lsetxattr } from '../../src/sys/index.js';
import { contentStoreIn, removeRoot, runInOverlay, tempRoot } from '../exporter/overlay-fixture.js';

let root: string;
beforeEach(() => {
  root = tempRoot('apply');
});
afterEach(() => removeRoot(root));

function file(name: string, data: string, extra: Partial<TarWriteEntry['header']> = {}): TarWriteEntry {
  const bytes = Buffer.from(data);
  return { header: { name, type: 'file', mode: 0o644, uid: 0, gid: 0, size: bytes.length, mtime: 1_600_000_000, ...extra }, body: () => [bytes] };
}
function member(name: string, header: Partial<TarWriteEntry['header']>): TarWriteEntry {
  return { header: { name, type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1_600_000_000, ...header } };
}
async function tarBytes(entries: TarWriteEntry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of packTar(entries)) chunks.push(chunk);
  return Buffer.concat(chunks);
}
async function applyEntries(entries: TarWriteEntry[], target: string) {
  return applyLayer(Readable.from([await tarBytes(entries)]), target);
}

describe('applyLayer round trip', () => {
  test('a diffed overlay upper dir unpacks into an overlay lower that diffs back to the identical layer', async () => {
    const lower = join(root, 'lower');
    mkdirSync(join(lower, 'etc'), { recursive: true });
    mkdirSync(join(lower, 'replace'), { recursive: true });
    mkdirSync(join(lower, 'gone'), { recursive: true });
    writeFileSync(join(lower, 'etc', 'keep'), 'keep');
    writeFileSync(join(lower, 'etc', 'rm1'), '1');
    writeFileSync(join(lower, 'replace', 'old'), 'old');
    writeFileSync(join(lower, 'gone', 'f'), 'f');
    writeFileSync(join(lower, 'tagged'), 't');
    lsetxattr(join(lower, 'tagged'), 'user.bin', Buffer.from([0, 1, 2, 255]));
    const upper = join(root, 'upper');
    runInOverlay([lower], upper, join(root, 'work'), [
      'rm etc/rm1',
      'rm -rf gone',
      'rm -rf replace && mkdir replace && echo new > replace/new',
      'echo hello > etc/new && ln etc/new etc/hard && ln -s new etc/sym && mkfifo etc/fifo',
      'chown 1234:5678 etc/new && chmod 4750 etc/new',
      'chmod 640 tagged',
      'touch -d @1500000000 etc/new',
    ].join(' && '));

    const store = await contentStoreIn(root);
    const layer = (await writeLayerFromUpperDir(upper, store))!;
    const applied = join(root, 'applied');
    const { diffId } = await applyLayer(store.read(layer.blob.digest), applied);
    expect(diffId).toBe(layer.diffId);

    const whiteout = lstatSync(join(applied, 'etc', 'rm1'));
    expect(whiteout.isCharacterDevice() && whiteout.rdev === 0).toBe(true);
    expect(lstatSync(join(applied, 'gone')).isCharacterDevice()).toBe(true);
    expect(lgetxattr(join(applied, 'replace'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    const created = lstatSync(join(applied, 'etc', 'new'));
    expect(created.ino).toBe(lstatSync(join(applied, 'etc', 'hard')).ino);
    expect([created.uid, created.gid, created.mode & 0o7777, created.mtimeMs]).toEqual([1234, 5678, 0o4750, 1_500_000_000_000]);
    expect(readlinkSync(join(applied, 'etc', 'sym'))).toBe('new');
    expect(lstatSync(join(applied, 'etc', 'fifo')).isFIFO()).toBe(true);
    expect(lgetxattr(join(applied, 'tagged'), 'user.bin')).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(lstatSync(join(applied, 'etc')).mtimeMs).toBe(Math.floor(lstatSync(join(upper, 'etc')).mtimeMs / 1000) * 1000);

    // The applied dir is itself an upper-dir-shaped tree: diffing it gives the very same bytes.
    const again = (await writeLayerFromUpperDir(applied, store))!;
    expect(again).toEqual(layer);

    // Stacked over the base, the kernel shows the deletions and the replaced directory.
    const listing = runInOverlay([applied, lower], join(root, 'upper2'), join(root, 'work2'), 'ls -A etc; echo --; ls -A; echo --; ls -A replace');
    expect(listing.split('--\n')).toEqual(['fifo\nhard\nkeep\nnew\nsym\n', 'etc\nreplace\ntagged\n', 'new\n']);
  });

  test('a plain (uncompressed) tar is detected by its bytes and its sha256 is the diffID', async () => {
    const tar = await tarBytes([member('d', {}), file('d/f', 'contents')]);
    const target = join(root, 'target');
    const { diffId } = await applyLayer(Readable.from([tar]), target);
    expect(diffId).toBe(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
    expect(readFileSync(join(target, 'd', 'f'), 'utf8')).toBe('contents');
  });

  test('a GNU tar archive with long names, PAX xattrs and a ./ root entry unpacks', async () => {
    const src = join(root, 'src');
    const longDir = join(src, 'x'.repeat(120), 'y'.repeat(120));
    mkdirSync(longDir, { recursive: true });
    writeFileSync(join(longDir, 'z'.repeat(200)), 'deep');
    writeFileSync(join(src, 'cap'), 'c');
    lsetxattr(join(src, 'cap'), 'user.note', Buffer.from('hi'));
    for (const format of ['gnu', 'posix']) {
      const archive = join(root, `${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '--xattrs', '--xattrs-include=user.*', '-cf', archive, '-C', src, '.']);
      const target = join(root, `out-${format}`);
      await applyLayer(createReadStream(archive), target);
      expect(readFileSync(join(target, 'x'.repeat(120), 'y'.repeat(120), 'z'.repeat(200)), 'utf8')).toBe('deep');
      if (format === 'posix') expect(lgetxattr(join(target, 'cap'), 'user.note')?.toString()).toBe('hi');
    }
  });

  test('whiteouts hide only lower layers: an entry of the same layer stays, and files inside a whited-out name make it opaque', async () => {
    const target = join(root, 'target');
    await applyEntries([file('x', 'kept'), file('.wh.x', ''), file('.wh.d', ''), member('d/sub', {}), file('d/sub/f', 'f')], target);
    expect(readFileSync(join(target, 'x'), 'utf8')).toBe('kept');
    expect(lstatSync(join(target, 'd')).isDirectory()).toBe(true);
    expect(lgetxattr(join(target, 'd'), 'trusted.overlay.opaque')?.toString()).toBe('y');
  });

  test('overlay xattrs in an archive are never applied', async () => {
    const target = join(root, 'target');
    const xattrs = new Map([
      ['trusted.overlay.redirect', Buffer.from('/etc')],
      ['user.overlay.opaque', Buffer.from('y')],
      ['user.ok', Buffer.from('1')],
    ]);
    await applyEntries([member('d', { xattrs })], target);
    expect(llistxattr(join(target, 'd'))).toEqual(['user.ok']);
  });

  test('user.overlay.opaque marks opaque dirs when asked (rootless overlay with userxattr)', async () => {
    const target = join(root, 'target');
    await applyLayer(Readable.from([await tarBytes([member('d', {}), file('d/.wh..wh..opq', '')])]), target, { opaqueXattr: 'user.overlay.opaque' });
    expect(lgetxattr(join(target, 'd'), 'user.overlay.opaque')?.toString()).toBe('y');
    expect(readdirSync(join(target, 'd'))).toEqual([]);
  });
});

describe('applyLayer refuses unsafe archives', () => {
  const cases: { name: string; entries: (outside: string) => TarWriteEntry[]; error: RegExp }[] = [
    { name: 'a ../ escape', entries: () => [file('../escape', 'x')], error: /outside the layer root/ },
    { name: 'a deeper ../ escape', entries: () => [member('a', {}), file('a/../../escape', 'x')], error: /outside the layer root/ },
    { name: 'an absolute path', entries: (outside) => [file(`${outside}/abs`, 'x')], error: /absolute path/ },
    {
      name: 'a file written through an archive symlink to outside',
      entries: (outside) => [member('evil', { type: 'symlink', linkname: outside }), file('evil/pwned', 'x')],
      error: /through the symlink "evil"/,
    },
    {
      name: 'a file written through a relative symlink to the parent',
      entries: () => [member('up', { type: 'symlink', linkname: '..' }), file('up/outside/pwned', 'x')],
      error: /through the symlink "up"/,
    },
    { name: 'a hard link to a path outside', entries: () => [member('h', { type: 'link', linkname: '../outside/target' })], error: /outside the layer root/ },
    {
      name: 'a hard link through a symlink',
      entries: (outside) => [member('evil', { type: 'symlink', linkname: outside }), member('h', { type: 'link', linkname: 'evil/target' })],
      error: /not inside a directory of this layer/,
    },
  ];
  for (const { name, entries, error } of cases) {
    test(`rejects ${name} and writes nothing outside the target`, async () => {
      const outside = join(root, 'outside');
      mkdirSync(outside);
      writeFileSync(join(outside, 'target'), 'victim');
      const target = join(root, 'target');
      await expect(applyEntries(entries(outside), target)).rejects.toThrow(error);
      await expect(applyEntries(entries(outside), join(root, 'target2'))).rejects.toBeInstanceOf(LayerApplyError);
      expect(readdirSync(outside)).toEqual(['target']);
      expect(readFileSync(join(outside, 'target'), 'utf8')).toBe('victim');
      expect(readdirSync(root).sort()).toEqual(['outside', 'target', 'target2']);
    });
  }

  test('a file replacing an archive symlink of the same name is written in place, not through the link', async () => {
    const outside = join(root, 'outside');
    mkdirSync(outside);
    const target = join(root, 'target');
    await applyEntries([member('f', { type: 'symlink', linkname: join(outside, 'target') }), file('f', 'inside')], target);
    expect(lstatSync(join(target, 'f')).isFile()).toBe(true);
    expect(readFileSync(join(target, 'f'), 'utf8')).toBe('inside');
    expect(readdirSync(outside)).toEqual([]);
  });

  test('a target directory that is not empty is refused', async () => {
    const target = join(root, 'target');
    mkdirSync(target);
    writeFileSync(join(target, 'old'), 'x');
    await expect(applyEntries([file('f', 'x')], target)).rejects.toThrow(/not empty/);
  });

  test('bytes that are not a tar fail with a tar format error', async () => {
    const target = join(root, 'target');
    await expect(applyLayer(Readable.from([Buffer.alloc(1024, 7)]), target)).rejects.toBeInstanceOf(TarFormatError);
  });

  test('an aborted signal stops unpacking', async () => {
    const controller = new AbortController();
    controller.abort();
    const tar = await tarBytes([file('a', 'a'), file('b', 'b')]);
    await expect(applyLayer(Readable.from([tar]), join(root, 'target'), { signal: controller.signal })).rejects.toThrow(/abort/i);
  });
});
