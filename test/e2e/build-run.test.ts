// The walking skeleton through the CLI: import a base, build, run, list, save, remove.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeContext, repoRoot, runKiln, unpackWithUmoci, useKilnRoot } from '../helpers/kiln.js';

const kiln = useKilnRoot();

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-e2e-'));
  kiln.track(dir);
  return dir;
}

describe('build and run', () => {
  it('builds the hello example and runs its CMD', async () => {
    const built = await runKiln(['build', '-t', 'hello', join(repoRoot, 'examples', 'hello')], { root: kiln.root });
    expect(built.stderr).toContain('RUN chmod +x greet.sh');
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout).toMatch(/^sha256:[0-9a-f]{64}$/m);
    const ran = await runKiln(['run', '--rm', 'hello'], { root: kiln.root });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('Hello from Kiln!');
    expect(ran.stdout).toContain('built on Linux by kiln');
    expect(ran.stdout).toContain('running as root in /app');
  });

  it('passes a command, env, workdir and user to kiln run, and returns the exit code', async () => {
    const ran = await runKiln(['run', '--rm', '-e', 'WHO=kiln', '-w', '/tmp', '-u', 'app', 'busybox', 'sh', '-c', 'echo "$WHO $(pwd) $(id -u)"; exit 7'], { root: kiln.root });
    expect(ran.stdout.trim()).toBe('kiln /tmp 1000');
    expect(ran.code).toBe(7);
  });

  it('runs --entrypoint instead of the image entrypoint', async () => {
    const ran = await runKiln(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'from', 'entrypoint'], { root: kiln.root });
    expect(ran.stdout.trim()).toBe('from entrypoint');
  });

  it('handles exec and shell form RUN, COPY of directories, globs and --chown, ENV, ARG, USER, LABEL, EXPOSE', async () => {
    const context = await makeContext({
      'Dockerfile': [
        'FROM busybox',
        'ARG GREETING=hi',
        'ENV TARGET=/srv',
        'WORKDIR $TARGET',
        'COPY src/ ./src/',
        'COPY *.txt notes/',
        'COPY --chown=app:staff owned.conf /etc/owned.conf',
        'RUN ["sh", "-c", "echo exec-form > /srv/exec.out"]',
        'RUN echo "$GREETING from shell form" > shell.out && stat -c "%u:%g" /etc/owned.conf > owner.out',
        'USER app',
        'RUN id -un > /tmp/who',
        'LABEL org.example.title="kiln test" version=1',
        'EXPOSE 8080/tcp 53/udp',
        'CMD ["cat", "/srv/shell.out"]',
      ].join('\n'),
      'src/a/one.js': 'one',
      'src/b.js': 'two',
      'x.txt': 'x',
      'y.txt': 'y',
      'owned.conf': 'conf',
    });
    kiln.track(context);
    const built = await runKiln(['build', '-t', 'features', '--build-arg', 'GREETING=hello', context], { root: kiln.root });
    expect(built.code, built.stderr).toBe(0);
    const ran = await runKiln(['run', '--rm', 'features'], { root: kiln.root });
    expect(ran.stdout).toBe('hello from shell form\n');
    const listing = await runKiln(['run', '--rm', 'features', 'sh', '-c', 'cat /srv/exec.out /srv/owner.out /tmp/who; ls /srv/src /srv/src/a /srv/notes'], { root: kiln.root });
    expect(listing.stdout.split('\n')).toEqual(['exec-form', '1000:50', 'app', '/srv/notes:', 'x.txt', 'y.txt', '', '/srv/src:', 'a', 'b.js', '', '/srv/src/a:', 'one.js', '']);
    const inspected = JSON.parse((await runKiln(['inspect', 'features'], { root: kiln.root })).stdout) as Array<{ Config: { config: Record<string, unknown> } }>;
    const config = inspected[0]!.Config.config;
    expect(config.User).toBe('app');
    expect(config.WorkingDir).toBe('/srv');
    expect(config.Labels).toEqual({ 'org.example.title': 'kiln test', version: '1' });
    expect(config.ExposedPorts).toEqual({ '8080/tcp': {}, '53/udp': {} });
    expect(config.Env).toContain('TARGET=/srv');
    expect((config.Env as string[]).some((entry) => entry.startsWith('GREETING='))).toBe(false);
  });

  it('an untagged build is kept as a nameless image that runs and is removed by its ID', async () => {
    const context = await makeContext({ Dockerfile: 'FROM busybox\nCMD ["echo", "untagged"]\n' });
    kiln.track(context);
    const built = await runKiln(['build', '-q', context], { root: kiln.root });
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toBe('');
    const id = built.stdout.trim();
    expect((await runKiln(['run', '--rm', id], { root: kiln.root })).stdout).toBe('untagged\n');
    expect((await runKiln(['images'], { root: kiln.root })).stdout).toMatch(new RegExp(`^<none>\\s+<none>\\s+${id.slice(7, 19)}`, 'm'));
    expect((await runKiln(['rmi', id.slice(7, 19)], { root: kiln.root })).code).toBe(0);
    expect((await runKiln(['run', '--rm', id], { root: kiln.root })).code).toBe(1);
  });

  it('lists and removes images', async () => {
    await runKiln(['tag', 'busybox', 'extra:1'], { root: kiln.root });
    const listed = await runKiln(['images'], { root: kiln.root });
    expect(listed.stdout).toMatch(/^extra\s+1\s+[0-9a-f]{12}/m);
    expect(listed.stdout).toMatch(/^busybox\s+latest\s/m);
    expect((await runKiln(['rmi', 'extra:1'], { root: kiln.root })).code).toBe(0);
    expect((await runKiln(['images'], { root: kiln.root })).stdout).not.toMatch(/^extra\s/m);
    const missing = await runKiln(['rmi', 'extra:1'], { root: kiln.root });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No such image: extra:1');
  });
});

describe('kiln save', () => {
  it('writes an OCI archive that skopeo inspects and umoci unpacks to exactly the files the Dockerfile made', async () => {
    const context = await makeContext({
      'Dockerfile': 'FROM busybox\nRUN rm /bin/vi && mkdir -p /data && echo made > /data/file\nCOPY added.txt /data/added.txt\n',
      'added.txt': 'added\n',
    });
    kiln.track(context);
    expect((await runKiln(['build', '-t', 'saved:v1', context], { root: kiln.root })).code).toBe(0);
    const work = await tempDir();
    const archive = join(work, 'saved.tar');
    const saved = await runKiln(['save', '-o', archive, 'saved:v1'], { root: kiln.root });
    expect(saved.code, saved.stderr).toBe(0);
    const inspected = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${archive}`]).toString()) as { Layers: string[]; Os: string };
    expect(inspected.Layers).toHaveLength(3);
    expect(inspected.Os).toBe('linux');
    const rootfs = unpackWithUmoci(archive, work, 'v1');
    expect(existsSync(join(rootfs, 'bin', 'vi'))).toBe(false);
    expect(await readlink(join(rootfs, 'bin', 'ls'))).toBe('busybox');
    expect(await readFile(join(rootfs, 'data', 'file'), 'utf8')).toBe('made\n');
    expect(await readFile(join(rootfs, 'data', 'added.txt'), 'utf8')).toBe('added\n');
    // Nothing the executor provides (hosts, resolv.conf, mount stubs) leaks into a layer.
    expect(existsSync(join(rootfs, 'etc', 'hosts'))).toBe(false);
    expect(existsSync(join(rootfs, 'etc', 'resolv.conf'))).toBe(false);
    expect(existsSync(join(rootfs, 'proc'))).toBe(false);
  });
});
