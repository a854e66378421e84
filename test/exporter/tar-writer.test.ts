import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { packTar, TarWriteError, type TarWriteEntry } from '../../src/exporter/index.js';
import { readTar, type TarHeader } from '../../src/snapshot/index.js';
import { lgetxattr } from '../../src/sys/index.js';
import { removeRoot, tempRoot } from './overlay-fixture.js';

let root: string;
beforeEach(() => {
  root = tempRoot('tar');
});
afterEach(() => removeRoot(root));

async function pack(entries: TarWriteEntry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of packTar(entries)) chunks.push(chunk);
  return Buffer.concat(chunks);
}
async function headersOf(tar: Buffer): Promise<TarHeader[]> {
  const headers: TarHeader[] = [];
  for await (const entry of readTar([tar])) headers.push(entry.header);
  return headers;
}
const base = { mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000 };

describe('packTar', () => {
  test('values USTAR cannot hold go to PAX records, and both our reader and GNU tar read them back', async () => {
    const xattrs = new Map([['user.bin', Buffer.from([0, 0xc3, 0x28, 0xff, 0x0a])]]);
    const longTarget = `${'t'.repeat(150)}/target`;
    const entries: TarWriteEntry[] = [
      { header: { ...base, name: 'big-ids', type: 'file', uid: 3_000_000, gid: 4_000_000, size: 2, xattrs }, body: () => [Buffer.from('ok')] },
      { header: { ...base, name: 'long-link', type: 'symlink', linkname: longTarget } },
      { header: { ...base, name: 'naïve-ünïcode', type: 'file' }, body: () => [] },
      { header: { ...base, name: `${'d'.repeat(99)}/${'f'.repeat(99)}`, type: 'file' }, body: () => [] },
    ];
    const tar = await pack(entries);
    const headers = await headersOf(tar);
    expect(headers.map((h) => h.name)).toEqual(entries.map((e) => e.header.name));
    expect(headers[0]).toMatchObject({ uid: 3_000_000, gid: 4_000_000, size: 2 });
    expect(headers[0]!.xattrs?.get('user.bin')).toEqual(xattrs.get('user.bin'));
    expect(headers[1]!.linkname).toBe(longTarget);

    const archive = join(root, 'a.tar');
    writeFileSync(archive, tar);
    const listing = execFileSync('tar', ['-tvf', archive, '--numeric-owner'], { encoding: 'utf8' });
    expect(listing).toMatch(/3000000\/4000000 +2 .* big-ids\n/);
    const out = join(root, 'out');
    mkdirSync(out);
    execFileSync('tar', ['--xattrs', '--xattrs-include=user.*', '-xf', archive, '-C', out]);
    expect(readFileSync(join(out, 'big-ids'), 'utf8')).toBe('ok');
    expect(lgetxattr(join(out, 'big-ids'), 'user.bin')).toEqual(xattrs.get('user.bin'));
    expect(readlinkSync(join(out, 'long-link'))).toBe(longTarget);
    expect(readFileSync(join(out, 'naïve-ünïcode'), 'utf8')).toBe('');
  });

  test('a file that yields a different byte count than its header says fails the archive', async () => {
    const entries: TarWriteEntry[] = [{ header: { ...base, name: 'f', type: 'file', size: 10 }, body: () => [Buffer.from('short')] }];
    await expect(pack(entries)).rejects.toBeInstanceOf(TarWriteError);
    await expect(pack(entries)).rejects.toThrow(/changed size while it was being archived \(expected 10 bytes, read 5\)/);
  });

  test('members are padded to 512-byte blocks and the archive ends with two zero blocks', async () => {
    const tar = await pack([{ header: { ...base, name: 'f', type: 'file', size: 3 }, body: () => [Buffer.from('abc')] }]);
    expect(tar.length).toBe(512 + 512 + 1024);
    expect(tar.subarray(1024).every((byte) => byte === 0)).toBe(true);
  });
});
