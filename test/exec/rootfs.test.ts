// The container root through Executor.run: a clean upper dir, many lowers, image symlinks that point out, extra mounts.
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeExecFixture, runIn } from './exec-fixture.js';
import type { ExecFixture } from './exec-fixture.js';

let fx: ExecFixture;

beforeAll(async () => {
  fx = await makeExecFixture();
});

afterAll(async () => {
  await fx.dispose();
});

async function treeOf(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    out.push(`${prefix}${e.name}${e.isDirectory() ? '/' : ''}`);
    if (e.isDirectory()) out.push(...(await treeOf(join(dir, e.name), `${prefix}${e.name}/`)));
  }
  return out.sort();
}

describe('Executor.run root filesystem', () => {
  it('leaves only what the command wrote in the upper dir', async () => {
    const r = await runIn(fx, ['sh', '-c', 'echo hi > /x; cat /etc/hosts /etc/resolv.conf > /dev/null; ls /proc /sys /dev > /dev/null']);
    expect(r.status.code).toBe(0);
    expect(await treeOf(r.upperDir)).toEqual(['x']);
  });

  it('keeps mount points it had to create out of the upper dir', async () => {
    const secret = join(fx.tmp, 'secret-for-targets');
    await writeFile(secret, 'x');
    const r = await runIn(fx, ['sh', '-c', 'ls -d /root/.cache /new/deep/dir /etc/app/key && echo hi > /written'], {
      mounts: [
        { kind: 'tmpfs', target: '/root/.cache' },
        { kind: 'tmpfs', target: '/new/deep/dir' },
        { kind: 'file', source: secret, target: '/etc/app/key', mode: 0o400, uid: 0, gid: 0 },
      ],
    });
    expect(r.stdout).toBe('/etc/app/key\n/new/deep/dir\n/root/.cache\n');
    expect(await treeOf(r.upperDir)).toEqual(['written']);
  });

  it('records a deletion of a lower file as a whiteout', async () => {
    const r = await runIn(fx, ['rm', '/etc/group']);
    const st = await stat(join(r.upperDir, 'etc', 'group'));
    expect(st.isCharacterDevice() && st.rdev === 0).toBe(true);
  });

  it('stacks more lowers than one mount(2) option page can name', async () => {
    const lowers: string[] = [];
    for (let i = 0; i < 40; i++) {
      const d = join(fx.tmp, `lower-with-a-deliberately-long-name-to-overflow-the-page-${'x'.repeat(60)}-${i}`);
      await mkdir(d);
      await writeFile(join(d, `f${i}`), `${i}\n`);
      lowers.push(d);
    }
    const r = await runIn(fx, ['sh', '-c', 'cat /f0 /f39; ls / | grep -c "^f"'], { lowerDirs: [...lowers, fx.rootfs] });
    expect(r.stdout).toBe('0\n39\n40\n');
  });

  it('takes a lower path with a colon or comma', async () => {
    const d = join(fx.tmp, 'odd:name,here');
    await mkdir(d);
    await writeFile(join(d, 'odd'), 'yes\n');
    const r = await runIn(fx, ['cat', '/odd'], { lowerDirs: [d, fx.rootfs] });
    expect(r.stdout).toBe('yes\n');
  });

  it('never mounts through an image symlink that points at a host path', async () => {
    const hostFile = join(fx.tmp, 'host-hosts');
    await writeFile(hostFile, 'host content\n');
    const image = await mkdtemp(join(fx.tmp, 'evil-'));
    await mkdir(join(image, 'etc'));
    await symlink(hostFile, join(image, 'etc', 'hosts'));
    const r = await runIn(fx, ['cat', '/etc/hosts'], { lowerDirs: [image, fx.rootfs], hostname: 'evil-box' });
    expect(r.stdout).toContain('evil-box');
    expect(await readFile(hostFile, 'utf8')).toBe('host content\n');
  });

  it('adds bind, tmpfs, read-only overlay and secret-file mounts', async () => {
    const shared = join(fx.tmp, 'shared');
    await mkdir(shared);
    await writeFile(join(shared, 'in'), 'from host\n');
    const layerA = join(fx.tmp, 'layer-a');
    const layerB = join(fx.tmp, 'layer-b');
    await mkdir(layerA);
    await mkdir(layerB);
    await writeFile(join(layerA, 'a'), 'A\n');
    await writeFile(join(layerB, 'b'), 'B\n');
    const secret = join(fx.tmp, 'secret');
    await writeFile(secret, 's3cret\n', { mode: 0o644 });
    const r = await runIn(
      fx,
      [
        'sh',
        '-c',
        [
          'cat /mnt/rw/in; echo out > /mnt/rw/out',
          'touch /mnt/ro/x 2>/dev/null || echo ro-denied',
          'echo t > /tmp/t/file && grep " /tmp/t " /proc/self/mountinfo | cut -d" " -f9',
          'cat /layers/a /layers/b; touch /layers/c 2>/dev/null || echo layers-ro',
          'stat -c "%a %u %g" /run/secrets/s; cat /run/secrets/s',
        ].join('; '),
      ],
      {
        mounts: [
          { kind: 'bind', source: shared, target: '/mnt/rw', readonly: false },
          { kind: 'bind', source: shared, target: '/mnt/ro', readonly: true },
          { kind: 'tmpfs', target: '/tmp/t' },
          { kind: 'overlay-ro', lowerDirs: [layerA, layerB], target: '/layers' },
          { kind: 'file', source: secret, target: '/run/secrets/s', mode: 0o400, uid: 1000, gid: 1000 },
        ],
      },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('from host\nro-denied\ntmpfs\nA\nB\nlayers-ro\n400 1000 1000\ns3cret\n');
    expect(await readFile(join(shared, 'out'), 'utf8')).toBe('out\n');
    expect((await stat(secret)).mode & 0o777).toBe(0o644);
  });

  it('discards writes to an overlay-rw-discard mount into its own upper dir', async () => {
    const lower = join(fx.tmp, 'discard-lower');
    const upper = join(fx.tmp, 'discard-upper');
    const work = join(fx.tmp, 'discard-work');
    for (const d of [lower, upper, work]) await mkdir(d);
    await writeFile(join(lower, 'keep'), 'k\n');
    const r = await runIn(fx, ['sh', '-c', 'cat /cache/keep; echo new > /cache/new'], {
      mounts: [{ kind: 'overlay-rw-discard', lowerDirs: [lower], upperDir: upper, workDir: work, target: '/cache' }],
    });
    expect(r.stdout).toBe('k\n');
    expect(await readdir(lower)).toEqual(['keep']);
    expect(await readFile(join(upper, 'new'), 'utf8')).toBe('new\n');
    await rm(upper, { recursive: true, force: true });
  });
});
