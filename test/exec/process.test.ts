// How the container's process runs through Executor.run: streams, exit status, user, env, cwd, errors, cancellation.
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerStartError } from '../../src/exec/index.js';
import { mountsMentioning, processesMentioning } from '../helpers/kiln.js';
import { makeExecFixture, runIn } from './exec-fixture.js';
import type { ExecFixture } from './exec-fixture.js';

let fx: ExecFixture;

beforeAll(async () => {
  fx = await makeExecFixture();
});

afterAll(async () => {
  await fx.dispose();
});

describe('Executor.run process', () => {
  it('streams stdout and stderr separately', async () => {
    const r = await runIn(fx, ['sh', '-c', 'echo out; echo err >&2; printf tail']);
    expect(r.stdout).toBe('out\ntail');
    expect(r.stderr).toBe('err\n');
  });

  it('feeds stdin to the command', async () => {
    const r = await runIn(fx, ['sh', '-c', 'tr a-z A-Z'], { stdin: 'hello\n' });
    expect(r.stdout).toBe('HELLO\n');
  });

  it('propagates the exit code', async () => {
    expect((await runIn(fx, ['sh', '-c', 'exit 3'])).status).toEqual({ code: 3 });
    expect((await runIn(fx, ['false'])).status).toEqual({ code: 1 });
  });

  it('reports a command killed by a signal as 128+N', async () => {
    // PID 1 ignores signals it has no handler for, so the shell has to die of a real fault: a stack overflow.
    const r = await runIn(fx, ['sh', '-c', 'ulimit -s 64; f() { f; }; f']);
    expect(r.status).toEqual({ code: 139, signal: 'SIGSEGV' });
  });

  it('uses exactly the given environment, adding HOME from passwd', async () => {
    const r = await runIn(fx, ['env'], { env: ['PATH=/bin', 'FOO=bar baz'], user: 'app' });
    expect(r.stdout.trim().split('\n').sort()).toEqual(['FOO=bar baz', 'HOME=/home/app', 'PATH=/bin']);
  });

  it('resolves the executable with the container PATH', async () => {
    const r = await runIn(fx, ['which', 'wc'], { env: ['PATH=/usr/bin:/bin'] });
    expect(r.stdout).toBe('/bin/wc\n');
  });

  it('creates a missing working directory, owned by root', async () => {
    const r = await runIn(fx, ['sh', '-c', 'pwd; stat -c %u /work/dir'], { cwd: '/work/dir', user: 'app' });
    expect(r.stdout).toBe('/work/dir\n0\n');
  });

  it.each([
    // busybox id lists getgroups() (sorted by the kernel): the supplementary groups plus the primary one (BuildKit's ensureAdditionalGids).
    ['app', 'uid=1000(app) gid=1000(app) groups=50(staff),1000(app)'],
    ['1000', 'uid=1000(app) gid=1000(app) groups=50(staff),1000(app)'],
    ['app:root', 'uid=1000(app) gid=0(root) groups=0(root)'],
    ['1234:4321', 'uid=1234 gid=4321 groups=4321'],
    ['', 'uid=0(root) gid=0(root) groups=0(root)'],
  ])('runs as user %j', async (user, id) => {
    const r = await runIn(fx, ['id'], { user });
    expect(r.stdout.trim()).toBe(id);
  });

  it('fails with status 125 and a clear message for an unknown user', async () => {
    const err = await runIn(fx, ['id'], { user: 'ghost' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerStartError);
    expect((err as ContainerStartError).status).toBe(125);
    expect((err as ContainerStartError).message).toMatch(/unable to find user ghost/);
  });

  it('fails with status 127 when the executable does not exist', async () => {
    const err = await runIn(fx, ['no-such-tool'], {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerStartError);
    expect((err as ContainerStartError).status).toBe(127);
    expect((err as ContainerStartError).message).toMatch(/"no-such-tool": executable file not found in \$PATH/);
  });

  it('fails with status 126 when the file is not executable', async () => {
    const err = await runIn(fx, ['/etc/passwd'], {}).catch((e: unknown) => e);
    expect((err as ContainerStartError).status).toBe(126);
  });

  it('abort kills every process of the container and leaves no mount behind', async () => {
    const ac = new AbortController();
    const marker = `kiln-abort-${process.pid}`;
    const pending = runIn(fx, ['sh', '-c', `sleep 4101 & sleep 4101 & sleep 4101; : ${marker}`], { signal: ac.signal });
    for (let i = 0; i < 200 && (await processesMentioning(marker)).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await processesMentioning(marker)).not.toEqual([]);
    const started = Date.now();
    ac.abort(new Error('cancelled by test'));
    await expect(pending).rejects.toThrow('cancelled by test');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await processesMentioning(marker)).toEqual([]);
    expect(await processesMentioning('sleep 4101')).toEqual([]);
    expect(await mountsMentioning(fx.stateDir)).toEqual([]);
    expect(await readdir(`${fx.stateDir}/steps`)).toEqual([]);
  });

  it('reports PID 1 killed from outside with SIGKILL as 137', async () => {
    const marker = `kiln-kill-${process.pid}`;
    const pending = runIn(fx, ['sh', '-c', `sleep 4103; : ${marker}`]);
    let pids: string[] = [];
    for (let i = 0; i < 200 && pids.length === 0; i++) {
      pids = (await processesMentioning(marker)).filter((p) => !p.includes('kiln-init.cjs')).map((p) => p.split(':')[0] as string);
      if (pids.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(pids.length).toBe(1);
    process.kill(Number(pids[0]), 'SIGKILL');
    expect((await pending).status).toEqual({ code: 137, signal: 'SIGKILL' });
  });

  it('leaves no mount and no step directory after a normal run', async () => {
    await runIn(fx, ['true']);
    expect(await mountsMentioning(fx.stateDir)).toEqual([]);
    expect(await readdir(`${fx.stateDir}/steps`)).toEqual([]);
  });

  it('keeps the builder environment out of the container', async () => {
    const r = await runIn(fx, ['cat', '/proc/1/environ'], { env: ['A=1'] });
    const hostEnv = await readFile('/proc/self/environ', 'utf8');
    expect(r.stdout.split('\0').filter((e) => e !== '').sort()).toEqual(['A=1', 'HOME=/root', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    expect(hostEnv.length).toBeGreaterThan(0);
  });
});
