import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidUserSpecError, resolveChown, resolveUser, UnknownUserError } from '../../src/exec/passwd.js';

let root: string;
let bare: string;
let linked: string;

const PASSWD = `# comment
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
app:x:1000:1001:App:/home/app:/bin/sh
1234:x:77:77::/weird:/bin/sh
`;
const GROUP = `root:x:0:
daemon:x:1:
wheel:x:10:root,app
appgrp:x:1001:
docker:x:999:app
staff:x:50:
`;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'kiln-passwd-'));
  mkdirSync(path.join(root, 'etc'));
  writeFileSync(path.join(root, 'etc/passwd'), PASSWD);
  writeFileSync(path.join(root, 'etc/group'), GROUP);
  bare = mkdtempSync(path.join(tmpdir(), 'kiln-passwd-bare-'));
  // An image whose /etc is an absolute symlink: it must be read inside the image, never from the host.
  linked = mkdtempSync(path.join(tmpdir(), 'kiln-passwd-link-'));
  mkdirSync(path.join(linked, 'real'));
  writeFileSync(path.join(linked, 'real/passwd'), 'zed:x:4242:4243::/z:/bin/sh\n');
  symlinkSync('/real', path.join(linked, 'etc'));
});

afterAll(() => {
  for (const d of [root, bare, linked]) rmSync(d, { recursive: true, force: true });
});

const cases = [
  { spec: '', want: { uid: 0, gid: 0, additionalGids: [10], home: '/root', name: 'root' } },
  { spec: 'root', want: { uid: 0, gid: 0, additionalGids: [10], home: '/root', name: 'root' } },
  { spec: 'app', want: { uid: 1000, gid: 1001, additionalGids: [10, 999], home: '/home/app', name: 'app' } },
  { spec: '1000', want: { uid: 1000, gid: 1001, additionalGids: [10, 999], home: '/home/app', name: 'app' } },
  { spec: 'app:staff', want: { uid: 1000, gid: 50, additionalGids: [], home: '/home/app', name: 'app' } },
  { spec: 'app:5', want: { uid: 1000, gid: 5, additionalGids: [], home: '/home/app', name: 'app' } },
  { spec: '1000:docker', want: { uid: 1000, gid: 999, additionalGids: [], home: '/home/app', name: 'app' } },
  { spec: '4000', want: { uid: 4000, gid: 0, additionalGids: [], home: '/' } },
  { spec: '4000:4001', want: { uid: 4000, gid: 4001, additionalGids: [], home: '/' } },
  { spec: '4000:wheel', want: { uid: 4000, gid: 10, additionalGids: [], home: '/' } },
  // A numeric spec is a uid even when some user is literally named "1234".
  { spec: '1234', want: { uid: 1234, gid: 0, additionalGids: [], home: '/' } },
] as const;

describe('resolveUser', () => {
  for (const c of cases) {
    it(`resolves ${JSON.stringify(c.spec)} like runc`, async () => {
      expect(resolveUser(root, c.spec)).toEqual(c.want);
    });
  }

  it('an unknown user name fails with a clear message', async () => {
    expect(() => resolveUser(root, 'nobody')).toThrow(UnknownUserError);
    expect(() => resolveUser(root, 'nobody')).toThrow('unable to find user nobody: no matching entries in passwd file');
  });

  it('an unknown group name fails naming the group', async () => {
    expect(() => resolveUser(root, 'app:nogroup')).toThrow('unable to find group nogroup: no matching entries in group file');
  });

  it('an image without /etc/passwd still accepts numeric users and root', async () => {
    expect(resolveUser(bare, '')).toEqual({ uid: 0, gid: 0, additionalGids: [], home: '/' });
    expect(resolveUser(bare, '5:6')).toEqual({ uid: 5, gid: 6, additionalGids: [], home: '/' });
    expect(() => resolveUser(bare, 'app')).toThrow('unable to find user app: no matching entries in passwd file');
  });

  it('reads /etc/passwd through an absolute /etc symlink inside the image', async () => {
    expect(resolveUser(linked, 'zed')).toMatchObject({ uid: 4242, gid: 4243, home: '/z' });
  });

  it('rejects ids out of range', async () => {
    expect(() => resolveUser(bare, '4294967296')).toThrow(InvalidUserSpecError);
  });
});

describe('resolveChown', () => {
  const chownCases = [
    { chown: { user: 'app' }, want: { uid: 1000, gid: 1001 } },
    { chown: { user: 'app', group: 'staff' }, want: { uid: 1000, gid: 50 } },
    { chown: { user: '1000' }, want: { uid: 1000, gid: 1000 } },
    { chown: { user: '4000' }, want: { uid: 4000, gid: 4000 } },
    { chown: { user: '4000', group: 'docker' }, want: { uid: 4000, gid: 999 } },
    { chown: { user: 'app', group: '7' }, want: { uid: 1000, gid: 7 } },
  ] as const;
  for (const c of chownCases) {
    it(`--chown=${c.chown.user}${'group' in c.chown ? `:${c.chown.group}` : ''} gives ${c.want.uid}:${c.want.gid}`, async () => {
      expect(await resolveChown(root, c.chown)).toEqual(c.want);
    });
  }

  it('an unknown chown user fails', async () => {
    await expect(resolveChown(root, { user: 'ghost' })).rejects.toThrow('unable to find user ghost');
    await expect(resolveChown(bare, { user: 'app', group: '1' })).rejects.toBeInstanceOf(UnknownUserError);
  });
});
