import { lstatSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CopySourceChangedError } from '../../src/exec/copy-errors.js';
import { TreeWriter } from '../../src/exec/copy-tree.js';

let base: string;

beforeEach(() => {
  base = mkdtempSync(path.join(tmpdir(), 'kiln-tree-'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('TreeWriter', () => {
  it('refuses a source file swapped for a symlink after the walk saw it', async () => {
    const src = path.join(base, 'a.txt');
    writeFileSync(src, 'context file');
    writeFileSync(path.join(base, 'host-secret'), 'secret');
    const walked = lstatSync(src, { bigint: true });
    renameSync(src, path.join(base, 'moved'));
    symlinkSync(path.join(base, 'host-secret'), src);
    const writer = new TreeWriter({ owner: null, resetOwnership: true, mode: null });
    await expect(writer.write(walked, src, path.join(base, 'out'), '/out')).rejects.toThrow();
    expect(existsSync(path.join(base, 'out'))).toBe(false);
  });

  it('refuses a source file replaced by another file after the walk', async () => {
    const src = path.join(base, 'a.txt');
    writeFileSync(src, 'one');
    const walked = lstatSync(src, { bigint: true });
    writeFileSync(path.join(base, 'other'), 'two');
    renameSync(path.join(base, 'other'), src);
    const writer = new TreeWriter({ owner: null, resetOwnership: true, mode: null });
    await expect(writer.write(walked, src, path.join(base, 'out'), '/out')).rejects.toBeInstanceOf(CopySourceChangedError);
  });

  it('streams an unchanged file', async () => {
    const src = path.join(base, 'big');
    writeFileSync(src, Buffer.alloc(3 << 20, 1));
    const writer = new TreeWriter({ owner: null, resetOwnership: true, mode: null });
    await writer.write(lstatSync(src, { bigint: true }), src, path.join(base, 'out'), '/out');
    expect(readFileSync(path.join(base, 'out')).equals(readFileSync(src))).toBe(true);
  });
});
