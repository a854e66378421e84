// kiln run volumes as docker makes them: a new named volume starts with the image's files (owners, modes kept),
// a used one or nocopy does not; image VOLUMEs get anonymous volumes that outlive --read-only and go with the run.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { mountsMentioning, runKiln, useKilnRoot } from '../helpers/kiln.js';

const kiln = useKilnRoot();

beforeAll(async () => {
  const context = await kiln.context({
    Dockerfile: [
      'FROM busybox',
      'RUN mkdir -p /data/sub /logs && echo seeded > /data/sub/file && chown -R 1234:2345 /data && chmod 0750 /data && chmod 0604 /data/sub/file && ln -s sub/file /data/link && echo old > /logs/boot',
      'VOLUME /logs',
    ].join('\n'),
  });
  const built = await runKiln(['build', '-t', 'withdata', context], { root: kiln.root });
  expect(built.code, built.stderr).toBe(0);
});

async function run(args: readonly string[]): Promise<string> {
  const result = await runKiln(['run', ...args], { root: kiln.root });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

describe('kiln run named volumes', () => {
  it('a new named volume gets the image content at its path, with owners, modes and symlinks', async () => {
    const out = await run(['-v', 'fresh:/data', 'withdata', 'sh', '-c', 'stat -c "%n %u:%g %a" /data /data/sub/file; readlink /data/link; cat /data/sub/file']);
    expect(out).toBe('/data 1234:2345 750\n/data/sub/file 1234:2345 604\nsub/file\nseeded\n');
    // On the host too: the volume dir itself took the image directory's owner and mode.
    const dir = await stat(join(kiln.root, 'volumes', 'fresh'));
    expect([dir.uid, dir.gid, dir.mode & 0o7777]).toEqual([1234, 2345, 0o750]);
    expect((await readdir(join(kiln.root, 'volumes'))).filter((n) => n.startsWith('.seed-'))).toEqual([]);
  });

  it('a volume with content is not seeded again: writes persist across runs', async () => {
    await run(['-v', 'kept:/data', 'withdata', 'sh', '-c', 'rm /data/sub/file; echo mine > /data/own']);
    expect(await run(['-v', 'kept:/data', 'withdata', 'ls', '/data', '/data/sub'])).toBe('/data:\nlink\nown\nsub\n\n/data/sub:\n');
  });

  it('nocopy leaves a new named volume empty; a path the image lacks leaves it empty too', async () => {
    expect(await run(['-v', 'bare:/data:nocopy', 'withdata', 'ls', '-A', '/data'])).toBe('');
    expect(await run(['-v', 'bare2:/data:ro,nocopy', 'withdata', 'ls', '-A', '/data'])).toBe('');
    expect(await run(['-v', 'elsewhere:/not/in/image', 'withdata', 'ls', '-A', '/not/in/image'])).toBe('');
  });

  it('nocopy on a host path and unknown options are usage errors', async () => {
    const host = await runKiln(['run', '-v', '/tmp:/data:nocopy', 'withdata', 'true'], { root: kiln.root });
    expect(host.code).toBe(2);
    expect(host.stderr).toContain('nocopy applies to named volumes only');
    const unknown = await runKiln(['run', '-v', 'x:/data:rw,bogus', 'withdata', 'true'], { root: kiln.root });
    expect(unknown.code).toBe(2);
  });
});

describe('kiln run and the image VOLUME paths', () => {
  it('each VOLUME gets an anonymous volume seeded from the image: a separate mount, writable under --read-only', async () => {
    const out = await run(['--read-only', 'withdata', 'sh', '-c', 'cat /logs/boot; echo new > /logs/run && cat /logs/run; grep -c " /logs " /proc/self/mountinfo; touch /elsewhere 2>/dev/null || echo ro-root']);
    expect(out).toBe('old\nnew\n1\nro-root\n');
  });

  it('anonymous volumes go away with the run (kiln keeps no stopped containers, as docker run --rm)', async () => {
    await run(['withdata', 'sh', '-c', 'echo gone > /logs/run']);
    expect(await run(['withdata', 'ls', '/logs'])).toBe('boot\n');
    expect((await readdir(join(kiln.root, 'containers'))).filter((n) => /^[0-9a-f]{64}$/.test(n))).toEqual([]);
    expect(await mountsMentioning(kiln.root)).toEqual([]);
  });

  it('a -v at a VOLUME path replaces its anonymous volume', async () => {
    expect(await run(['-v', 'logs:/logs', 'withdata', 'sh', '-c', 'grep -c " /logs " /proc/self/mountinfo; ls /logs'])).toBe('1\nboot\n');
    const named = await readdir(join(kiln.root, 'volumes', 'logs'));
    expect(named).toEqual(['boot']);
  });
});

describe('volumes at a path that goes through an image symlink', () => {
  it('are seeded from where the path leads inside the image, never from the host path of the same name', async () => {
    // The image's /link points at an absolute path that also exists on the host, with other content.
    const hostTwin = await kiln.context({ 'data/host-only': 'host\n' });
    const context = await kiln.context({
      Dockerfile: [
        'FROM busybox',
        `RUN mkdir -p ${hostTwin}/data && echo image > ${hostTwin}/data/from-image && chown 77:88 ${hostTwin}/data && ln -s ${hostTwin} /link`,
        'VOLUME /link/data',
      ].join('\n'),
    });
    const built = await runKiln(['build', '-t', 'linked', context], { root: kiln.root });
    expect(built.code, built.stderr).toBe(0);
    expect(await run(['linked', 'sh', '-c', 'ls /link/data; stat -c "%u:%g" /link/data'])).toBe('from-image\n77:88\n');
    expect(await run(['-v', 'through-link:/link/data', 'linked', 'ls', '/link/data'])).toBe('from-image\n');
    expect(await readdir(join(kiln.root, 'volumes', 'through-link'))).toEqual(['from-image']);
    expect(await readdir(join(hostTwin, 'data'))).toEqual(['host-only']);
  });
});
