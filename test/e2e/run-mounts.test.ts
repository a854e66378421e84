// RUN --mount through the CLI: cache persists and is shared, bind rw writes vanish, secrets leave no trace.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runKiln, useKilnRoot } from '../helpers/kiln.js';

const kiln = useKilnRoot();

function context(files: Record<string, string>): Promise<string> {
  return kiln.context(files);
}

async function grepTree(dir: string, needle: string): Promise<string[]> {
  try {
    return execFileSync('grep', ['-rl', '--', needle, dir]).toString().trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

describe('RUN --mount', () => {
  it('type=cache persists across builds and is shared between steps, and never enters a layer', async () => {
    const first = await context({ Dockerfile: 'FROM busybox\nRUN --mount=type=cache,target=/cache echo one >> /cache/log && cat /cache/log\n' });
    const built = await runKiln(['build', '--progress=plain', first], { root: kiln.root });
    expect(built.code, built.stderr).toBe(0);
    const second = await context({ Dockerfile: 'FROM busybox\nRUN --mount=type=cache,target=/var/cache/x,id=/cache echo two >> /var/cache/x/log && cat /var/cache/x/log\n' });
    const again = await runKiln(['build', '--progress=plain', '-t', 'cachemount', second], { root: kiln.root });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^#\d+ [\d.]+ one$/m);
    expect(again.stderr).toMatch(/^#\d+ [\d.]+ two$/m);
    const listing = await runKiln(['run', '--rm', 'cachemount', 'sh', '-c', 'test -e /var/cache/x/log && echo present || echo absent'], { root: kiln.root });
    expect(listing.stdout.trim()).toBe('absent');
  });

  it('type=cache with from= and source= starts as a copy of that stage directory', async () => {
    const dir = await context({
      Dockerfile: 'FROM busybox AS seed\nRUN mkdir -p /seed && echo seeded > /seed/first\n\nFROM busybox\nRUN --mount=type=cache,target=/c,id=seeded,from=seed,source=/seed cat /c/first && echo more >> /c/first\n',
    });
    const built = await runKiln(['build', '--progress=plain', dir], { root: kiln.root });
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toMatch(/^#\d+ [\d.]+ seeded$/m);
  });

  it('type=bind of the context is read-only by default, and rw writes are discarded', async () => {
    const dir = await context({
      Dockerfile: [
        'FROM busybox',
        'RUN --mount=type=bind,target=/src cat /src/input.txt && (touch /src/new 2>/dev/null && echo writable || echo read-only)',
        'RUN --mount=type=bind,target=/src,rw echo scribble > /src/input.txt && cat /src/input.txt',
        'RUN --mount=type=bind,target=/src ls -a /src',
      ].join('\n'),
      'input.txt': 'from context\n',
      'secret.key': 'ignored\n',
      '.dockerignore': 'secret.key\n',
    });
    const built = await runKiln(['build', '--progress=plain', dir], { root: kiln.root });
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toMatch(/^#\d+ [\d.]+ from context$/m);
    expect(built.stderr).toMatch(/^#\d+ [\d.]+ read-only$/m);
    expect(built.stderr).toMatch(/^#\d+ [\d.]+ scribble$/m);
    expect(built.stderr).not.toMatch(/^#\d+ [\d.]+ secret\.key$/m);
    expect(await readFile(join(dir, 'input.txt'), 'utf8')).toBe('from context\n');
  });

  it('type=bind from a stage mounts a directory of that stage', async () => {
    const dir = await context({
      Dockerfile: 'FROM busybox AS tools\nRUN mkdir -p /out && echo tool > /out/tool.txt\n\nFROM busybox\nRUN --mount=type=bind,from=tools,source=/out,target=/mnt cat /mnt/tool.txt\n',
    });
    const built = await runKiln(['build', '--progress=plain', dir], { root: kiln.root });
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toMatch(/^#\d+ [\d.]+ tool$/m);
  });

  it('a bind source outside the context is rejected', async () => {
    const dir = await context({ Dockerfile: 'FROM busybox\nRUN --mount=type=bind,source=../../etc,target=/x ls /x\n' });
    const built = await runKiln(['build', dir], { root: kiln.root });
    expect(built.code).toBe(1);
    expect(built.stderr).toMatch(/outside/);
  });

  it('type=tmpfs gives an empty writable tmpfs that is not kept', async () => {
    const dir = await context({ Dockerfile: 'FROM busybox\nRUN --mount=type=tmpfs,target=/scratch echo x > /scratch/f && grep -q "/scratch tmpfs" /proc/mounts && echo tmpfs-ok\n' });
    const built = await runKiln(['build', '--progress=plain', dir], { root: kiln.root });
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toMatch(/^#\d+ [\d.]+ tmpfs-ok$/m);
  });

  it('type=secret is readable in the step but absent from the image, the cache, the history and the output', async () => {
    const work = await mkdtemp(join(tmpdir(), 'kiln-secret-'));
    kiln.track(work);
    const secretValue = `s3cr3t-${Date.now()}`;
    await writeFile(join(work, 'token'), secretValue);
    const dir = await context({
      Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=token grep -q "^s3cr3t-" /run/secrets/token && echo secret-ok > /ok\nRUN --mount=type=secret,id=token,env=TOKEN test -n "$TOKEN" && echo env-ok\n',
    });
    const built = await runKiln(['build', '--progress=plain', '--secret', `id=token,src=${join(work, 'token')}`, '-t', 'secretive', dir], { root: kiln.root });
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).not.toContain(secretValue);
    expect((await runKiln(['run', '--rm', 'secretive', 'cat', '/ok'], { root: kiln.root })).stdout).toBe('secret-ok\n');
    expect((await runKiln(['run', '--rm', 'secretive', 'ls', '/run/secrets'], { root: kiln.root })).stdout.trim()).toBe('');
    expect(built.stderr).toMatch(/env-ok/);
    const archive = join(work, 'image.tar');
    expect((await runKiln(['save', '-o', archive, 'secretive'], { root: kiln.root })).code).toBe(0);
    execFileSync('tar', ['-xf', archive, '-C', work]);
    const blobs = await readdir(join(work, 'blobs', 'sha256'));
    expect(blobs.length).toBeGreaterThan(2);
    for (const blob of blobs) {
      // gzip -f passes non-gzip blobs (manifest, config) through unchanged; grep -q exits 1 when the value is absent.
      const found = spawnSync('sh', ['-c', 'gzip -dc -f < "$1" | grep -q -F -- "$2"', 'sh', join(work, 'blobs', 'sha256', blob), secretValue]);
      expect(found.status, blob).toBe(1);
    }
    expect(await grepTree(join(kiln.root, 'cache'), secretValue)).toEqual([]);
    expect(await grepTree(join(kiln.root, 'snapshots'), secretValue)).toEqual([]);
    expect(await grepTree(join(kiln.root, 'builds'), secretValue)).toEqual([]);
  });

  it('changing a secret value does not bust the cache', async () => {
    const work = await mkdtemp(join(tmpdir(), 'kiln-secret-'));
    kiln.track(work);
    const dir = await context({ Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=k cat /run/secrets/k > /dev/null && echo ran\n' });
    await writeFile(join(work, 'k'), 'one');
    expect((await runKiln(['build', '--secret', `id=k,src=${join(work, 'k')}`, dir], { root: kiln.root })).code).toBe(0);
    await writeFile(join(work, 'k'), 'two');
    const again = await runKiln(['build', '--progress=plain', '--secret', `id=k,src=${join(work, 'k')}`, dir], { root: kiln.root });
    expect(again.stderr).toMatch(/RUN --mount=type=secret,id=k[^\n]*\n#\d+ CACHED/);
  });

  it('a required secret that is missing fails the step clearly; type=ssh says it is not supported', async () => {
    const dir = await context({ Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=absent,required true\n' });
    const built = await runKiln(['build', dir], { root: kiln.root });
    expect(built.code).toBe(1);
    expect(built.stderr).toMatch(/Dockerfile:2.*secret "absent" is required/);
    const ssh = await context({ Dockerfile: 'FROM busybox\nRUN --mount=type=ssh true\n' });
    const refused = await runKiln(['build', ssh], { root: kiln.root });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Dockerfile:2.*type=ssh is not supported yet/);
  });
});
