import { chmodSync, chownSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
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

/** Lets the clock pass the ctime of files just written, so a zero racy margin remembers them. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

beforeEach(async () => {
  base = mkdtempSync(path.join(tmpdir(), 'kiln-ctxsum-'));
  ctx = path.join(base, 'ctx');
  put('app/main.js', 'console.log(1)');
  put('app/lib/util.js', 'export {}');
  put('app/debug.log', 'noise');
  put('config.json', '{}');
  put('other/unrelated.txt', 'x');
  symlinkSync('main.js', path.join(ctx, 'app/entry'));
  await settle();
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

  it('hard links are part of the checksum, and a linked file is read once', async () => {
    put('app/copy.js', 'console.log(1)');
    const copies = await sum();
    unlinkSync(path.join(ctx, 'app/copy.js'));
    linkSync(path.join(ctx, 'app/main.js'), path.join(ctx, 'app/copy.js'));
    const read: string[] = [];
    const linked = await sum({ hashFile: async (p) => (read.push(path.relative(ctx, p)), xxhashFile(p)) });
    expect(linked).not.toBe(copies);
    expect(read.sort()).toEqual(['app/copy.js', 'app/lib/util.js', 'config.json']);
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

  for (const [name, bytes] of [
    ['a corrupt cache file', Buffer.from('{not json')],
    ['a cache file of the older JSON format', Buffer.from('{"version":1,"entries":{}}')],
  ] as const) {
    it(`${name} is ignored and replaced`, async () => {
      const file = path.join(base, 'sc.bin');
      writeFileSync(file, bytes);
      const cache = await StatCache.load(file, { racyMarginMs: 0 });
      expect(cache.size).toBe(0);
      await sum({ statCache: cache });
      await cache.save();
      expect(readFileSync(file).subarray(0, 8).toString()).toBe('KILNSC03');
      expect((await StatCache.load(file)).size).toBe(3);
    });
  }

  it('a cache file cut short is ignored', async () => {
    const file = path.join(base, 'sc.bin');
    const cache = await StatCache.load(file, { racyMarginMs: 0 });
    await sum({ statCache: cache });
    await cache.save();
    const whole = readFileSync(file);
    for (const cut of [1, 8, 41, whole.length - 20]) {
      writeFileSync(file, whole.subarray(0, whole.length - cut));
      expect((await StatCache.load(file)).size).toBe(0);
    }
  });

  it('a save keeps the hashes of directories this run did not look at, and replaces changed ones', async () => {
    const file = path.join(base, 'sc.bin');
    const first = await StatCache.load(file, { racyMarginMs: 0 });
    await sum({ statCache: first });
    await first.save();
    put('other/a.txt', 'a');
    await settle();
    const second = await StatCache.load(file, { racyMarginMs: 0 });
    await sum({ statCache: second, src: ['other'] });
    await second.save();
    expect((await StatCache.load(file)).size).toBe(5);

    put('app/main.js', 'console.log(4)');
    await settle();
    const reads: string[] = [];
    const third = await StatCache.load(file, { racyMarginMs: 0 });
    const hashFile = async (p: string): Promise<string> => (reads.push(path.relative(ctx, p)), xxhashFile(p));
    await sum({ statCache: third, hashFile });
    await third.save();
    expect(reads).toEqual(['app/main.js']);
    const fourth = await StatCache.load(file, { racyMarginMs: 0 });
    expect(fourth.size).toBe(5);
    await sum({ statCache: fourth, hashFile, src: ['app', 'config.json', 'other'] });
    expect(reads).toEqual(['app/main.js']);
  });

  it('remembered hashes are found whatever order the files are asked for in', async () => {
    for (const name of ['a.js', 'b.js', 'c.js']) put(`app/${name}`);
    await settle();
    const file = path.join(base, 'sc.bin');
    const first = await StatCache.load(file, { racyMarginMs: 0 });
    const src = ['app/c.js', 'app/a.js', 'app/main.js', 'app/b.js'];
    const a = await sum({ statCache: first, src });
    await first.save();
    const second = await StatCache.load(file, { racyMarginMs: 0 });
    const never = async (p: string): Promise<string> => {
      throw new Error(`read ${p}, which the stat cache knows`);
    };
    expect(await sum({ statCache: second, src, hashFile: never })).toBe(a);
    expect(await sum({ statCache: second, src: [...src].reverse(), hashFile: never })).not.toBe(a);
  });

  it('names that are not ASCII and file content hashes of any length round-trip', async () => {
    put('app/\u00e9t\u00e9 \u{1F600}.txt', 'summer');
    await settle();
    const file = path.join(base, 'sc.bin');
    const hashFile = async (p: string): Promise<string> => `custom:${path.basename(p)}`;
    const first = await StatCache.load(file, { racyMarginMs: 0 });
    const a = await sum({ statCache: first, hashFile });
    await first.save();
    const second = await StatCache.load(file, { racyMarginMs: 0 });
    const never = async (): Promise<string> => {
      throw new Error('read a file the stat cache knows');
    };
    expect(await sum({ statCache: second, hashFile: never })).toBe(a);
  });
});

describe('checksumContextSelection on a large tree', () => {
  it('the digest and the entry order do not depend on which content hash finishes first', async () => {
    for (let i = 0; i < 1100; i += 1) put(`big/d${i % 7}/f${i}.txt`, `file ${i}`);
    const inOrder: string[] = [];
    const a = await sum({ src: ['big'], onEntry: (p) => inOrder.push(p) });
    const shuffled: string[] = [];
    const slow = async (p: string): Promise<string> => {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      return xxhashFile(p);
    };
    expect(await sum({ src: ['big'], hashFile: slow, onEntry: (p) => shuffled.push(p) })).toBe(a);
    expect(shuffled).toEqual(inOrder);
    expect(inOrder).toHaveLength(1 + 7 + 1100);
  });

  it('a file that cannot be read fails the checksum with its error', async () => {
    for (let i = 0; i < 1100; i += 1) put(`big/f${i}.txt`, `file ${i}`);
    const failing = async (p: string): Promise<string> => {
      if (p.endsWith('/f17.txt')) throw new Error('EIO reading f17.txt');
      return xxhashFile(p);
    };
    await expect(sum({ src: ['big'], hashFile: failing })).rejects.toThrow('EIO reading f17.txt');
  });
});
