// kiln run health checks (HEALTHCHECK and --health-*) as a docker user sees them through kiln ps, and nothing left behind.
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KilnResult } from '../helpers/kiln.js';
import { mountsMentioning, processesMentioning, runKiln, useKilnRoot } from '../helpers/kiln.js';

const kiln = useKilnRoot();

beforeAll(async () => {
  const context = await kiln.context({
    Dockerfile: [
      'FROM busybox',
      'RUN echo "checker:x:1234:1234::/home/checker:/bin/sh" >> /etc/passwd && echo "checker:x:1234:" >> /etc/group && mkdir /srv && chown checker /srv',
      'ENV GREETING=hello',
      'WORKDIR /srv',
      'USER checker',
      // CMD form: no shell, run as the image's user, in its WORKDIR, with its env.
      'HEALTHCHECK --interval=200ms --timeout=5s --retries=2 CMD ["sh", "-c", "echo \\"$GREETING $(id -u) $(pwd) $(hostname)\\"; test -e /ctl/healthy"]',
    ].join('\n'),
  });
  const built = await runKiln(['build', '-t', 'checked', context], { root: kiln.root });
  expect(built.code, built.stderr).toBe(0);
  const none = await kiln.context({ Dockerfile: 'FROM checked\nHEALTHCHECK NONE\n' });
  const builtNone = await runKiln(['build', '-t', 'unchecked', none], { root: kiln.root });
  expect(builtNone.code, builtNone.stderr).toBe(0);
});

/** A host dir bound at /ctl that the image's non-root user can look into. */
async function ctlDir(): Promise<string> {
  const dir = kiln.track(await mkdtemp(join(tmpdir(), 'kiln-e2e-health-')));
  await chmod(dir, 0o755);
  return dir;
}

/** The kiln ps row of the container named `name`, or undefined. */
async function psRow(name: string): Promise<string | undefined> {
  const ps = await runKiln(['ps'], { root: kiln.root });
  expect(ps.code, ps.stderr).toBe(0);
  return ps.stdout.split('\n').find((line) => line.trimEnd().endsWith(`   ${name}`));
}

async function waitForRow(name: string, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let row: string | undefined;
  while (Date.now() < deadline) {
    row = await psRow(name);
    if (row !== undefined && pattern.test(row)) return row;
    await sleep(100);
  }
  throw new Error(`kiln ps never showed ${pattern} for ${name}; last row: ${row}`);
}

/** Starts `kiln run --name NAME ... -v CTL:/ctl IMAGE sh -c 'until [ -e /ctl/stop ]...'`; stop() ends it. */
function holdContainer(name: string, ctl: string, flags: readonly string[], image: string): { stop: () => Promise<KilnResult> } {
  const running = runKiln(['run', '--name', name, ...flags, '-v', `${ctl}:/ctl`, image, 'sh', '-c', 'until [ -e /ctl/stop ]; do sleep 0.05; done'], { root: kiln.root });
  return {
    async stop() {
      await writeFile(join(ctl, 'stop'), '');
      return running;
    },
  };
}

/** The record kiln keeps for a running container (what ps reads). */
async function recordOf(name: string): Promise<{ id: string; health?: { status: string; failingStreak: number; log: { exitCode: number; output: string }[] } }> {
  const dir = join(kiln.root, 'containers');
  for (const entry of await readdir(dir)) {
    if (!/^[0-9a-f]{64}$/.test(entry)) continue;
    const record = JSON.parse(await readFile(join(dir, entry, 'state.json'), 'utf8')) as { id: string; name?: string };
    if (record.name === name) return record;
  }
  throw new Error(`no record for ${name}`);
}

describe('kiln run health checks', () => {
  it('the image HEALTHCHECK goes starting → unhealthy → healthy → unhealthy in kiln ps, run as the image user with its env and workdir', async () => {
    const ctl = await ctlDir();
    const container = holdContainer('web', ctl, [], 'checked');
    try {
      expect(await waitForRow('web', /\(health: starting\)/)).toMatch(/^[0-9a-f]{12} +checked +"sh -c until \[ -e \/c…" +/);
      await waitForRow('web', /Up .* \(unhealthy\)/);
      const unhealthy = await recordOf('web');
      expect(unhealthy.health?.failingStreak).toBeGreaterThanOrEqual(2);
      // The check ran inside the container: its user, env, workdir and hostname (the short container ID).
      expect(unhealthy.health?.log.at(-1)).toEqual({ exitCode: 1, output: `hello 1234 /srv ${unhealthy.id.slice(0, 12)}\n`, start: expect.any(String), end: expect.any(String) });
      await writeFile(join(ctl, 'healthy'), '');
      await waitForRow('web', /Up .* \(healthy\)/);
      expect((await recordOf('web')).health?.failingStreak).toBe(0);
      await rm(join(ctl, 'healthy'));
      await waitForRow('web', /Up .* \(unhealthy\)/);
    } finally {
      const result = await container.stop();
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
    }
    expect(await psRow('web')).toBeUndefined();
  }, 60_000);

  it('--health-cmd is a CMD-SHELL check and the --health-* flags override the image', async () => {
    const ctl = await ctlDir();
    const container = holdContainer('flags', ctl, ['--health-cmd', 'echo from-flag && test -e /ctl/ok', '--health-interval', '100ms', '--health-retries', '1', '-u', 'root'], 'checked');
    try {
      await waitForRow('flags', /\(unhealthy\)/);
      const record = await recordOf('flags');
      expect(record.health?.log.at(-1)).toMatchObject({ exitCode: 1, output: 'from-flag\n' });
      await writeFile(join(ctl, 'ok'), '');
      await waitForRow('flags', /\(healthy\)/);
    } finally {
      expect((await container.stop()).code).toBe(0);
    }
  }, 60_000);

  it('failures during --health-start-period do not count while the container has never been healthy', async () => {
    const ctl = await ctlDir();
    const flags = ['--health-cmd', 'false', '--health-interval', '100ms', '--health-retries', '1', '--health-start-period', '2s', '--health-start-interval', '100ms'];
    const container = holdContainer('slow', ctl, flags, 'checked');
    try {
      await waitForRow('slow', /\(health: starting\)/);
      await sleep(1000);
      const early = await recordOf('slow');
      expect(early.health?.status).toBe('starting');
      expect(early.health?.failingStreak).toBe(0);
      expect(early.health?.log.length).toBeGreaterThanOrEqual(1);
      await waitForRow('slow', /\(unhealthy\)/);
    } finally {
      expect((await container.stop()).code).toBe(0);
    }
  }, 60_000);

  it('HEALTHCHECK NONE and --no-healthcheck run no check: kiln ps shows a plain "Up"', async () => {
    for (const [name, flags, image] of [['none-image', [], 'unchecked'], ['none-flag', ['--no-healthcheck'], 'checked']] as const) {
      const ctl = await ctlDir();
      const container = holdContainer(name, ctl, flags, image);
      try {
        const row = await waitForRow(name, /Up /);
        await sleep(600);
        expect(await psRow(name)).toMatch(/Up [^(]*$/);
        expect(row).not.toContain('health');
        expect((await recordOf(name)).health).toBeUndefined();
      } finally {
        expect((await container.stop()).code).toBe(0);
      }
    }
  }, 60_000);

  it('--no-healthcheck with a --health-* flag is a usage error', async () => {
    const result = await runKiln(['run', '--no-healthcheck', '--health-interval', '1s', 'busybox', 'true'], { root: kiln.root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--no-healthcheck conflicts with --health-* options');
  });

  it('a check that outlives --health-timeout is killed with everything it started, and counts as a failure', async () => {
    const ctl = await ctlDir();
    const flags = ['--health-cmd', 'sleep 300 & sleep 301', '--health-interval', '100ms', '--health-timeout', '300ms', '--health-retries', '1'];
    const container = holdContainer('stuck', ctl, flags, 'checked');
    try {
      await waitForRow('stuck', /\(unhealthy\)/);
      const record = await recordOf('stuck');
      expect(record.health?.log[0]).toMatchObject({ exitCode: -1, output: 'Health check exceeded timeout (300ms)' });
      await sleep(300);
      // At most the check in flight: every timed-out one is gone, its background sleep too.
      const sleeps = (await processesMentioning('sleep 300')).filter((p) => p.endsWith(': sleep 300 '));
      expect(sleeps.length).toBeLessThanOrEqual(1);
    } finally {
      expect((await container.stop()).code).toBe(0);
    }
  }, 60_000);

  it('a container that exits leaves no check process, mount or record behind, even with a check in flight', async () => {
    const ctl = await ctlDir();
    const result = await runKiln(
      ['run', '--name', 'brief', '--health-cmd', 'sleep 47', '--health-interval', '50ms', '-v', `${ctl}:/ctl`, 'checked', 'sh', '-c', 'sleep 1'],
      { root: kiln.root },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    // Only this check's own processes (other test files run containers in parallel).
    expect((await processesMentioning('sleep 47')).filter((p) => p.endsWith(': sleep 47 ') || p.includes('-c sleep 47'))).toEqual([]);
    expect(await processesMentioning('health-exec')).toEqual([]);
    expect(await mountsMentioning(kiln.root)).toEqual([]);
    expect((await readdir(join(kiln.root, 'containers'))).filter((e) => /^[0-9a-f]{64}$/.test(e))).toEqual([]);
  }, 60_000);
});
