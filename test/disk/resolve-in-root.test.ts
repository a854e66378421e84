import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathResolveError, resolveInRoot, resolveInRootSync } from '../../src/disk/resolve-in-root.js';

let root: string;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'kiln-rir-'));
  mkdirSync(path.join(root, 'etc'));
  writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
  mkdirSync(path.join(root, 'a/b'), { recursive: true });
  symlinkSync('/', path.join(root, 'toroot'));
  symlinkSync('..', path.join(root, 'up'));
  symlinkSync('../../../../../..', path.join(root, 'a/farup'));
  symlinkSync('/etc', path.join(root, 'etclink'));
  symlinkSync('/etc/passwd', path.join(root, 'a/pw'));
  symlinkSync('../usr/lib', path.join(root, 'a/rel'));
  symlinkSync('loop2', path.join(root, 'loop1'));
  symlinkSync('loop1', path.join(root, 'loop2'));
  symlinkSync('/nowhere/x', path.join(root, 'dangling'));
  symlinkSync('b', path.join(root, 'a/blink'));
  writeFileSync(path.join(root, 'file'), 'x');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const cases: readonly { readonly name: string; readonly p: string; readonly want: string; readonly followFinal?: boolean }[] = [
  { name: 'a plain absolute path maps under root', p: '/etc/passwd', want: 'etc/passwd' },
  { name: 'a relative path is taken from root', p: 'etc/passwd', want: 'etc/passwd' },
  { name: 'the root itself resolves to root', p: '/', want: '' },
  { name: '".." above root stays at root', p: '/../../etc/passwd', want: 'etc/passwd' },
  { name: 'a symlink to "/" points at root, not the host', p: '/toroot/etc/passwd', want: 'etc/passwd' },
  { name: 'a symlink to ".." at top level stays at root', p: '/up/up/etc', want: 'etc' },
  { name: 'a symlink climbing many levels stays at root', p: '/a/farup/etc/passwd', want: 'etc/passwd' },
  { name: 'an absolute symlink to /etc is followed inside root', p: '/etclink/passwd', want: 'etc/passwd' },
  { name: 'a relative symlink is resolved from its own directory', p: '/a/rel', want: 'usr/lib' },
  { name: 'the final symlink is followed by default', p: '/a/pw', want: 'etc/passwd' },
  { name: 'the final symlink is kept with followFinal false', p: '/a/pw', want: 'a/pw', followFinal: false },
  { name: 'intermediate symlinks are followed even with followFinal false', p: '/etclink/passwd', want: 'etc/passwd', followFinal: false },
  { name: 'a trailing slash follows the final symlink anyway', p: '/a/blink/', want: 'a/b', followFinal: false },
  { name: 'a dangling symlink resolves to its (missing) target inside root', p: '/dangling', want: 'nowhere/x' },
  { name: 'missing components are kept as written', p: '/new/dir/file', want: 'new/dir/file' },
  { name: '".." after a missing component is lexical', p: '/new/../etc', want: 'etc' },
  { name: '".." after a symlink climbs from the link target', p: '/a/rel/..', want: 'usr' },
  { name: 'a path through a regular file is kept (the caller gets ENOTDIR)', p: '/file/x', want: 'file/x' },
];

describe('resolveInRoot', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const want = c.want === '' ? root : path.join(root, c.want);
      const opts = c.followFinal === undefined ? {} : { followFinal: c.followFinal };
      expect(await resolveInRoot(root, c.p, opts)).toBe(want);
      expect(resolveInRootSync(root, c.p, opts)).toBe(want);
    });
  }

  it('a symlink loop fails with ELOOP after 40 links', async () => {
    await expect(resolveInRoot(root, '/loop1')).rejects.toBeInstanceOf(PathResolveError);
    await expect(resolveInRoot(root, '/loop1/x')).rejects.toThrow(/too many levels of symbolic links/);
    expect(() => resolveInRootSync(root, '/loop2')).toThrow(PathResolveError);
  });

  it('a loop in the last component is not followed with followFinal false', async () => {
    expect(await resolveInRoot(root, '/loop1', { followFinal: false })).toBe(path.join(root, 'loop1'));
  });

  it('every result stays under root', async () => {
    for (const p of ['/toroot/..', '/up/../..', '/a/farup', '/etclink/../../..']) {
      const got = await resolveInRoot(root, p);
      expect(got === root || got.startsWith(root + path.sep)).toBe(true);
    }
  });
});
