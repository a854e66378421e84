import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checksumContextSelection, xxhashFile, type ContextChecksumOptions } from '../../src/cache/context-checksum.js';
import { StatCache } from '../../src/cache/stat-cache.js';
import { CopySourceNotFoundError } from '../../src/disk/path-pattern-select.js';

let base: string;
let ctx: string;

function put(rel: string, content = rel): string {
  const p = path.join(ctx, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content);
  return p;
}

function sum(extra: Partial<ContextChecksumOptions> = {}): Promise<string> {
  return checksumContextSelection({ root: ctx, src: ['app', 'config.json'], exclude: ['app/*.log'], followTopSymlinks: true, ...extra });
}

beforeEach(() => {
  base = mkdtempSync(path.join(tmpdir(), 'kiln-ctxsum-'));
  ctx = path.join(base, 'ctx');
  put('app/main.js', 'console.log(1)');
  put('app/lib/util.js', 'export {}');
  put('app/debug.log', 'noise');
  put('config.json', '{}');
  put('other/unrelated.txt', 'x');
  symlinkSync('main.js', path.join(ctx, 'app/entry'));
});

afterEach(() => rmSync(base, { recursive: true, force: true }));

const cases: readonly { readonly name: string; readonly change: () => void; readonly same: boolean }[] = [
  { name: 'editing a selected file changes the checksum', change: () => put('app/main.js', 'console.log(2)'), same: false },
  { name: 'touching a file without changing it keeps the checksum', change: () => utimesSync(path.join(ctx, 'app/main.js'), 1, 1), same: true },
  { name: 'chmod of a selected file changes the checksum', change: () => chmodSync(path.join(ctx, 'app/main.js'), 0o755), same: false },
  { name: 'chown of a selected file changes the checksum', change: () => chownSync(path.join(ctx, 'config.json'), 42, 42), same: false },
  { name: 'editing a .dockerignore-d file keeps the checksum', change: () => put('app/debug.log', 'more noise'), same: true },
  { name: 'a new file outside the selection keeps the checksum', change: () => put('other/new.txt'), same: true },
  { name: 'a new file inside a selected directory changes the checksum', change: () => put('app/lib/new.js'), same: false },
  { name: 'removing a selected file changes the checksum', change: () => unlinkSync(path.join(ctx, 'app/lib/util.js')), same: false },
  {
    name: 'retargeting a symlink changes the checksum',
    change: () => {
      unlinkSync(path.join(ctx, 'app/entry'));
      symlinkSync('lib/util.js', path.join(ctx, 'app/entry'));
    },
    same: false,
  },
  { name: 'renaming a selected file changes the checksum', change: () => renameSync(path.join(ctx, 'app/lib/util.js'), path.join(ctx, 'app/lib/util2.js')), same: false },
];

describe('checksumContextSelection', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const before = await sum();
      c.change();
      const after = await sum();
      if (c.same) expect(after).toBe(before);
      else expect(after).not.toBe(before);
    });
  }

  it('is a stable hex digest for the same tree', async () => {
    const a = await sum();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await sum()).toBe(a);
  });

  it('depends on which sources are selected', async () => {
    expect(await sum({ src: ['app'] })).not.toBe(await sum());
  });

  it('wildcards select only their matches', async () => {
    put('a.txt');
    const before = await sum({ src: ['*.txt'] });
    put('b.md');
    expect(await sum({ src: ['*.txt'] })).toBe(before);
    put('c.txt');
    expect(await sum({ src: ['*.txt'] })).not.toBe(before);
  });

  it('--exclude files are not part of the checksum', async () => {
    const before = await sum({ copyExclude: ['*.js'] });
    put('app/main.js', 'changed');
    expect(await sum({ copyExclude: ['*.js'] })).toBe(before);
  });

  it('a missing source fails like the COPY would', async () => {
    await expect(sum({ src: ['nope'] })).rejects.toBeInstanceOf(CopySourceNotFoundError);
  });

  it('reads only selected files', async () => {
    const read: string[] = [];
    await sum({ hashFile: async (p) => (read.push(path.relative(ctx, p)), xxhashFile(p)) });
    expect(read.sort()).toEqual(['app/lib/util.js', 'app/main.js', 'config.json']);
  });
});

describe('StatCache', () => {
  it('a second run with the stat cache reads no content, and an edit is read again', async () => {
    const file = path.join(base, 'state', 'stat-cache.json');
    let reads = 0;
    const hashFile = async (p: string): Promise<string> => {
      reads += 1;
      return xxhashFile(p);
    };
    const first = await StatCache.load(file, { racyMarginMs: 0 });
    const a = await sum({ statCache: first, hashFile });
    await first.save();
    expect(reads).toBe(3);
    expect(existsSync(file)).toBe(true);

    const second = await StatCache.load(file, { racyMarginMs: 0 });
    expect(await sum({ statCache: second, hashFile })).toBe(a);
    expect(reads).toBe(3);

    put('app/main.js', 'console.log(3)');
    const b = await sum({ statCache: second, hashFile });
    expect(b).not.toBe(a);
    expect(reads).toBe(4);
  });

  it('does not remember hashes of files changed just now (their stat may not change on the next edit)', async () => {
    const cache = await StatCache.load(path.join(base, 'sc.json'));
    await sum({ statCache: cache });
    expect(cache.size).toBe(0);
  });

  it('a corrupt cache file is ignored and replaced', async () => {
    const file = path.join(base, 'sc.json');
    writeFileSync(file, '{not json');
    const cache = await StatCache.load(file, { racyMarginMs: 0 });
    await sum({ statCache: cache });
    await cache.save();
    expect(JSON.parse(readFileSync(file, 'utf8')).version).toBe(1);
  });
});
