import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CopySourceNotFoundError, selectSources, type SelectOptions } from '../../src/disk/path-pattern-select.js';

let root: string;

function put(rel: string): void {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, rel);
}

async function select(src: string[], more: Partial<SelectOptions> = {}): Promise<string[]> {
  const items = await selectSources({ root, src, ignore: [], exclude: [], followTopSymlinks: true, parents: false, ...more });
  return items.flatMap((item) => [`${item.relPath || '.'}:`, ...item.entries.map((e) => e.rel)]);
}

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'kiln-select-'));
  put('README.md');
  put('src/main.go');
  put('src/util/strings.go');
  put('src/util/strings_test.go');
  put('docs/guide.md');
  put('docs/img/logo.png');
  put('build/out.bin');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('selectSources', () => {
  it('walks a directory parents first, names in byte order', async () => {
    expect(await select(['src'])).toEqual(['src:', 'main.go', 'util', 'util/strings.go', 'util/strings_test.go']);
  });

  it('names outside the BMP sort by UTF-8 bytes, after every BMP name (not by UTF-16 units)', async () => {
    for (const name of ['\u{1F600}.txt', '\uFF21.txt', 'z.txt', '\u00e9.txt']) put(`uni/${name}`);
    expect(await select(['uni'])).toEqual(['uni:', 'z.txt', '\u00e9.txt', '\uFF21.txt', '\u{1F600}.txt']);
    put('plain/b');
    put('plain/B');
    put('plain/a');
    expect(await select(['plain'])).toEqual(['plain:', 'B', 'a', 'b']);
  });

  it('an excluded directory is not entered unless an exception could match inside', async () => {
    expect(await select(['.'], { ignore: ['docs', 'build'] })).toEqual(['.:', 'README.md', 'src', 'src/main.go', 'src/util', 'src/util/strings.go', 'src/util/strings_test.go']);
    expect(await select(['docs'], { ignore: ['docs', '!docs/img'] })).toEqual(['docs:', 'img', 'img/logo.png']);
  });

  it('a wildcard exception re-includes files deep inside an excluded tree, with their parents', async () => {
    expect(await select(['.'], { ignore: ['*', '!**/*.go'] })).toEqual(['.:', 'src', 'src/main.go', 'src/util', 'src/util/strings.go', 'src/util/strings_test.go']);
  });

  it('a fully excluded directory is not found, like a file missing from the context', async () => {
    await expect(select(['build'], { ignore: ['build'] })).rejects.toBeInstanceOf(CopySourceNotFoundError);
    await expect(select(['build/out.bin'], { ignore: ['build'] })).rejects.toBeInstanceOf(CopySourceNotFoundError);
  });

  it('wildcards can match directories, which are then walked', async () => {
    expect(await select(['d*'])).toEqual(['docs:', 'guide.md', 'img', 'img/logo.png']);
    expect(await select(['src/*/*.go'])).toEqual(['src/util/strings.go:', 'src/util/strings_test.go:']);
  });

  it('ignored files never match a wildcard', async () => {
    expect(await select(['src/util/*'], { ignore: ['**/*_test.go'] })).toEqual(['src/util/strings.go:']);
  });

  it('a symlink matched by a wildcard is followed inside the root', async () => {
    symlinkSync('/docs', path.join(root, 'docs-link'));
    expect(await select(['docs-*'])).toEqual(['docs:', 'guide.md', 'img', 'img/logo.png']);
  });

  it('--exclude applies below the copied directory', async () => {
    expect(await select(['src'], { exclude: ['*_test.go', 'util/*_test.go'] })).toEqual(['src:', 'main.go', 'util', 'util/strings.go']);
  });

  it('a source dropped only by --exclude copies nothing without an error', async () => {
    expect(await select(['README.md'], { exclude: ['*.md'] })).toEqual([]);
  });

  it('--parents selects by pattern below the pivot and keeps parent directories', async () => {
    expect(await select(['**/*.go'], { parents: true })).toEqual(['.:', 'src', 'src/main.go', 'src/util', 'src/util/strings.go', 'src/util/strings_test.go']);
    expect(await select(['src/./util/strings.go'], { parents: true })).toEqual(['src:', 'util', 'util/strings.go']);
    await expect(select(['nothing/*.go'], { parents: true })).rejects.toBeInstanceOf(CopySourceNotFoundError);
  });
});
