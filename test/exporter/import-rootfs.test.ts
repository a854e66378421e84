import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { importRootfs, packTar } from '../../src/exporter/index.js';
import { contentStoreIn, makeBusyboxRootfs, membersOf, removeRoot, tempRoot } from './overlay-fixture.js';

let root: string;
beforeEach(() => {
  root = tempRoot('import');
});
afterEach(() => removeRoot(root));

describe('importRootfs', () => {
  test('a directory becomes one gzip layer of its contents, without an entry for the (private) root dir', async () => {
    const rootfs = join(root, 'rootfs');
    makeBusyboxRootfs(rootfs);
    chmodSync(rootfs, 0o700);
    const store = await contentStoreIn(root);
    const layer = await importRootfs(rootfs, store);
    expect(layer.blob.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    const members = await membersOf(store, layer.blob.digest);
    const names = members.map((m) => m.header.name);
    expect(names.slice(0, 7)).toEqual(['bin', 'bin/busybox', 'bin/cat', 'bin/echo', 'bin/ls', 'bin/sh', 'etc']);
    expect(names).not.toContain('.');
    expect(members.find((m) => m.header.name === 'bin/sh')!.header).toMatchObject({ type: 'symlink', linkname: 'busybox' });
  });

  test('a tarball (plain or gzip) is re-written with normalized names and the same diffID either way', async () => {
    const src = join(root, 'src');
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc', 'hostname'), 'box\n');
    execFileSync('tar', ['-cf', join(root, 'rootfs.tar'), '-C', src, '.']);
    execFileSync('sh', ['-c', `gzip -c ${join(root, 'rootfs.tar')} > ${join(root, 'rootfs.tar.gz')}`]);
    const store = await contentStoreIn(root);
    const plain = await importRootfs(join(root, 'rootfs.tar'), store);
    const gzipped = await importRootfs(join(root, 'rootfs.tar.gz'), store);
    expect(gzipped).toEqual(plain);
    const members = await membersOf(store, plain.blob.digest);
    expect(members.map((m) => m.header.name)).toEqual(['.', 'etc', 'etc/hostname']);
    expect(members[2]!.data.toString()).toBe('box\n');
  });

  test('a file that is not a tar is refused', async () => {
    writeFileSync(join(root, 'notes.txt'), 'just some text, long enough to fill a header block? no.'.repeat(20));
    await expect(importRootfs(join(root, 'notes.txt'), await contentStoreIn(root))).rejects.toThrow(/not a tar archive/);
  });

  test('a tarball member escaping the root is refused', async () => {
    const chunks: Buffer[] = [];
    const header = { name: '../evil', type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0 };
    for await (const chunk of packTar([{ header, body: () => [] }])) chunks.push(chunk);
    writeFileSync(join(root, 'evil.tar'), Buffer.concat(chunks));
    await expect(importRootfs(join(root, 'evil.tar'), await contentStoreIn(root))).rejects.toThrow(/outside the root filesystem/);
  });
});
