import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { writeLayerFromUpperDir } from '../../src/exporter/index.js';
import { lsetxattr } from '../../src/sys/index.js';
import { contentStoreIn, membersOf, removeRoot, runInOverlay, tempRoot } from './overlay-fixture.js';

let root: string;
beforeEach(() => {
  root = tempRoot('diff');
});
afterEach(() => removeRoot(root));

/** A lower layer with files to delete, replace and copy up. */
function makeLower(lower: string): void {
  mkdirSync(join(lower, 'etc'), { recursive: true });
  mkdirSync(join(lower, 'replace', 'sub'), { recursive: true });
  mkdirSync(join(lower, 'gone-dir'), { recursive: true });
  writeFileSync(join(lower, 'etc', 'keep'), 'keep\n');
  writeFileSync(join(lower, 'etc', 'rm1'), 'one\n');
  writeFileSync(join(lower, 'etc', 'rm2'), 'two\n');
  writeFileSync(join(lower, 'replace', 'old'), 'old\n');
  writeFileSync(join(lower, 'replace', 'sub', 'deep'), 'deep\n');
  writeFileSync(join(lower, 'gone-dir', 'f'), 'f\n');
  writeFileSync(join(lower, 'tagged'), 'x\n');
  lsetxattr(join(lower, 'tagged'), 'user.kiln.test', Buffer.from([0x00, 0xff, 0x41]));
}

const script = [
  'rm etc/rm1 etc/rm2', // two whiteouts: the kernel makes them links of one inode
  'rm -rf gone-dir',
  'rm -rf replace && mkdir replace && echo new > replace/new', // opaque dir
  'echo hello > etc/new',
  'ln etc/new etc/new-link',
  'ln -s ../etc/new etc/sym',
  'mkfifo etc/fifo',
  'chmod 600 tagged', // copy-up keeps the user xattr
].join(' && ');

describe('writeLayerFromUpperDir', () => {
  test('turns a real overlay upper dir into an OCI changeset with whiteouts, opaque dirs, links and xattrs', async () => {
    const lower = join(root, 'lower');
    const upper = join(root, 'upper');
    makeLower(lower);
    runInOverlay([lower], upper, join(root, 'work'), script);
    // Sanity: the kernel wrote whiteouts sharing one inode, and overlay xattrs on copied-up dirs.
    expect(lstatSync(join(upper, 'etc', 'rm1')).ino).toBe(lstatSync(join(upper, 'etc', 'rm2')).ino);

    const store = await contentStoreIn(root);
    const layer = await writeLayerFromUpperDir(upper, store);
    expect(layer).toBeDefined();
    expect(layer!.blob.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');

    const members = await membersOf(store, layer!.blob.digest);
    const byName = new Map(members.map((m) => [m.header.name, m]));
    expect(members.map((m) => m.header.name)).toEqual([
      'etc',
      'etc/fifo',
      'etc/new',
      'etc/new-link',
      'etc/.wh.rm1',
      'etc/.wh.rm2',
      'etc/sym',
      '.wh.gone-dir',
      'replace',
      'replace/.wh..wh..opq',
      'replace/new',
      'tagged',
    ]);
    expect(byName.get('etc/.wh.rm1')!.header.type).toBe('file');
    expect(byName.get('etc/.wh.rm2')!.header.type).toBe('file');
    expect(byName.get('.wh.gone-dir')!.header.type).toBe('file');
    expect(byName.get('replace')!.header.type).toBe('directory');
    expect(byName.get('etc/new')!.data.toString()).toBe('hello\n');
    expect(byName.get('etc/new-link')!.header).toMatchObject({ type: 'link', linkname: 'etc/new' });
    expect(byName.get('etc/sym')!.header).toMatchObject({ type: 'symlink', linkname: '../etc/new' });
    expect(byName.get('etc/fifo')!.header.type).toBe('fifo');
    expect(byName.get('tagged')!.header.mode).toBe(0o600);
    expect(byName.get('tagged')!.header.xattrs?.get('user.kiln.test')).toEqual(Buffer.from([0x00, 0xff, 0x41]));
    for (const member of members) {
      for (const name of member.header.xattrs?.keys() ?? []) expect(name).not.toMatch(/overlay/);
    }

    const compressed = readFileSync(store.pathOf(layer!.blob.digest));
    expect(layer!.blob.digest).toBe(`sha256:${createHash('sha256').update(compressed).digest('hex')}`);
    expect(layer!.diffId).toBe(`sha256:${createHash('sha256').update(gunzipSync(compressed)).digest('hex')}`);
  });

  test('the tar is readable by GNU tar, with numeric owners and no user or group names', async () => {
    const upper = join(root, 'upper');
    mkdirSync(join(upper, 'a'), { recursive: true });
    writeFileSync(join(upper, 'a', 'file'), 'data');
    const store = await contentStoreIn(root);
    const layer = await writeLayerFromUpperDir(upper, store);
    // Without --numeric-owner GNU tar prints names when the archive has them: empty names show as ids.
    const listing = execFileSync('tar', ['-tvzf', store.pathOf(layer!.blob.digest)], { encoding: 'utf8' });
    expect(listing).toMatch(/^drwxr-xr-x 0\/0 .* a\/\n/m);
    expect(listing).toMatch(/^-rw-r--r-- 0\/0 +4 .* a\/file\n/m);
  });

  test('the same upper dir always gives the same blob digest', async () => {
    const upper = join(root, 'upper');
    mkdirSync(join(upper, 'd'), { recursive: true });
    writeFileSync(join(upper, 'd', 'x'), 'x'.repeat(100_000));
    writeFileSync(join(upper, 'long-'.repeat(30)), 'long name');
    chmodSync(join(upper, 'd'), 0o750);
    const store = await contentStoreIn(root);
    const first = await writeLayerFromUpperDir(upper, store);
    const second = await writeLayerFromUpperDir(upper, store);
    expect(second).toEqual(first);
    const members = await membersOf(store, first!.blob.digest);
    expect(members.map((m) => m.header.name)).toContain('long-'.repeat(30));
  });

  test('an empty upper dir adds no layer', async () => {
    const upper = join(root, 'upper');
    mkdirSync(upper);
    const store = await contentStoreIn(root);
    expect(await writeLayerFromUpperDir(upper, store)).toBeUndefined();
  });

  test('an aborted signal stops the export with an abort error and stores nothing', async () => {
    const upper = join(root, 'upper');
    mkdirSync(upper);
    writeFileSync(join(upper, 'f'), 'f');
    const store = await contentStoreIn(root);
    const controller = new AbortController();
    controller.abort();
    await expect(writeLayerFromUpperDir(upper, store, { signal: controller.signal })).rejects.toThrow(/abort/i);
    expect(await store.list()).toEqual([]);
  });
});
