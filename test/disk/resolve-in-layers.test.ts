// resolveInLayersSync: a path resolved through an image's layer dirs as the merged overlay view would resolve it.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveInLayersSync } from '../../src/disk/resolve-in-layers.js';
import { PathResolveError } from '../../src/disk/resolve-in-root.js';
import { lsetxattr, mknod, S_IFCHR } from '../../src/sys/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'kiln-layers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let count = 0;
/** A layer dir built from entries: "dir/", "file", "link -> target", "gone (whiteout)", "dir/ (opaque)". */
function layer(entries: readonly string[]): string {
  const dir = join(tmp, `layer${count++}`);
  mkdirSync(dir);
  for (const entry of entries) {
    const [name, target] = entry.split(' -> ') as [string, string | undefined];
    if (target !== undefined) symlinkSync(target, join(dir, name));
    else if (name.endsWith(' (whiteout)')) mknod(join(dir, name.replace(' (whiteout)', '')), S_IFCHR | 0o000, 0n);
    else if (name.endsWith('/ (opaque)')) {
      mkdirSync(join(dir, name.replace('/ (opaque)', '')), { recursive: true });
      lsetxattr(join(dir, name.replace('/ (opaque)', '')), 'trusted.overlay.opaque', Buffer.from('y'));
    } else if (name.endsWith('/')) mkdirSync(join(dir, name), { recursive: true });
    else writeFileSync(join(dir, name), 'x');
  }
  return dir;
}

describe('resolveInLayersSync', () => {
  it('follows a symlink of a lower layer under a directory of an upper one, absolute targets staying in the image', () => {
    const lower = layer(['real/', 'real/data/', 'link -> /real', 'rel -> real/data']);
    const upper = layer(['real/', 'real/data/', 'real/data/f']);
    expect(resolveInLayersSync([upper, lower], '/link/data')).toBe('/real/data');
    expect(resolveInLayersSync([upper, lower], '/rel/f')).toBe('/real/data/f');
    // A missing tail is kept as written, for the caller to create.
    expect(resolveInLayersSync([upper, lower], '/link/new/dir')).toBe('/real/new/dir');
  });

  it('never leaves the image: absolute targets and ".." stop at its root', () => {
    const only = layer(['etc -> /../../../../real-etc', 'real-etc/', 'up -> ../../..', 'a/']);
    expect(resolveInLayersSync([only], '/etc/passwd')).toBe('/real-etc/passwd');
    expect(resolveInLayersSync([only], '/a/../../up/x')).toBe('/x');
  });

  it('takes the topmost layer\'s entry: a directory above hides a lower symlink, a symlink above a lower directory', () => {
    const lower = layer(['p -> /elsewhere', 'q/', 'elsewhere/']);
    const upper = layer(['p/', 'q -> /elsewhere']);
    expect(resolveInLayersSync([upper, lower], '/p/x')).toBe('/p/x');
    expect(resolveInLayersSync([upper, lower], '/q/x')).toBe('/elsewhere/x');
  });

  it('a whiteout deletes the lower entry, and an opaque directory hides everything below it', () => {
    const lower = layer(['gone -> /target', 'box/', 'box/inner -> /target', 'target/']);
    const upper = layer(['gone (whiteout)', 'box/ (opaque)']);
    expect(resolveInLayersSync([upper, lower], '/gone/x')).toBe('/gone/x');
    expect(resolveInLayersSync([upper, lower], '/box/inner/x')).toBe('/box/inner/x');
    expect(resolveInLayersSync([lower], '/box/inner/x')).toBe('/target/x');
  });

  it('gives up on a symlink loop, as the kernel does', () => {
    const only = layer(['a -> b', 'b -> a']);
    expect(() => resolveInLayersSync([only], '/a/x')).toThrow(PathResolveError);
  });
});
