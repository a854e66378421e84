// Exit codes and signals through the CLI, and nothing left behind after success, failure or a kill.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KilnResult } from '../helpers/kiln.js';
import { importBusybox, makeContext, makeKilnRoot, mountsMentioning, processesMentioning, processesWorkingIn, runKiln } from '../helpers/kiln.js';

let root: string;
const cleanup: string[] = [];

beforeAll(async () => {
  root = await makeKilnRoot();
  cleanup.push(root);
  await importBusybox(root);
  const context = await makeContext({ Dockerfile: 'FROM busybox\nSTOPSIGNAL SIGUSR1\n' });
  cleanup.push(context);
  const built = await runKiln(['build', '-t', 'stopsig', context], { root });
  expect(built.code, built.stderr).toBe(0);
});

afterAll(async () => {
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

/** Runs kiln and sends `signal` to it once its stdout (or stderr, for builds) shows `marker`. */
async function signalWhen(args: readonly string[], marker: string, signal: NodeJS.Signals): Promise<KilnResult & { signalledAt: number; endedAt: number; pid: number }> {
  let signalledAt = 0;
  let pid = 0;
  const watch = (child: ChildProcess): void => {
    pid = child.pid ?? 0;
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      if (signalledAt === 0 && seen.includes(marker)) {
        signalledAt = Date.now();
        child.kill(signal);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  };
  const result = await runKiln(args, { root, onSpawn: watch });
  const endedAt = Date.now();
  expect(signalledAt, `never saw "${marker}": ${result.stdout}${result.stderr}`).toBeGreaterThan(0);
  return { ...result, signalledAt, endedAt, pid };
}

/** Polls until `probe` returns an empty list (a killed container's processes need a moment to be reaped). */
async function eventuallyEmpty(probe: () => Promise<string[]>): Promise<string[]> {
  let found = await probe();
  for (let i = 0; i < 40 && found.length > 0; i++) {
    await sleep(50);
    found = await probe();
  }
  return found;
}

/** Step cgroups of a kiln process (named "<pid>-<id>") under every v1 controller kiln uses. */
async function stepCgroupsOf(pid: number): Promise<string[]> {
  const found: string[] = [];
  for (const controller of ['devices', 'memory', 'cpu', 'pids']) {
    const base = join('/sys/fs/cgroup', controller);
    if (!existsSync(base)) continue;
    const own = (await readdir(base, { recursive: true })).filter((p) => /(^|\/)kiln\/\d+-[^/]+$/.test(p));
    found.push(...own.filter((p) => p.split('/').at(-1)!.startsWith(`${pid}-`)).map((p) => join(base, p)));
  }
  return found;
}

async function expectNothingLeftBehind(marker?: string): Promise<void> {
  expect(await eventuallyEmpty(() => processesMentioning(root))).toEqual([]);
  expect(await eventuallyEmpty(() => processesWorkingIn(root))).toEqual([]);
  if (marker !== undefined) expect(await eventuallyEmpty(() => processesMentioning(marker))).toEqual([]);
  expect(await mountsMentioning(root)).toEqual([]);
  expect(await readdir(join(root, 'snapshots', 'active'))).toEqual([]);
  expect(await readdir(join(root, 'exec', 'steps')).catch(() => [])).toEqual([]);
}

describe('exit codes', () => {
  it('kiln run exits with the command status', async () => {
    const ran = await runKiln(['run', '--rm', 'busybox', 'sh', '-c', 'exit 42'], { root });
    expect(ran.code).toBe(42);
  });

  it('a command killed by signal N makes kiln run exit 128+N (with --init, the command is not PID 1)', async () => {
    const segv = await runKiln(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'kill -SEGV $$'], { root });
    expect(segv.code).toBe(128 + 11);
    const killed = await runKiln(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'kill -9 $$'], { root });
    expect(killed.code).toBe(128 + 9);
  });

  it('PID 1 ignores a signal it has no handler for, even one it sends itself, as in docker', async () => {
    const ran = await runKiln(['run', '--rm', 'busybox', 'sh', '-c', 'kill -TERM $$; kill -9 $$; echo survived'], { root });
    expect(ran.stdout).toBe('survived\n');
    expect(ran.code).toBe(0);
  });

  it('a RUN whose child dies of SIGSEGV fails with exit code 139 on its Dockerfile line', async () => {
    const context = await makeContext({ Dockerfile: 'FROM busybox\nRUN sh -c \'kill -SEGV $$\'; exit $?\n' });
    cleanup.push(context);
    const built = await runKiln(['build', context], { root });
    expect(built.code).toBe(1);
    expect(built.stderr).toMatch(/Dockerfile:2\b/);
    expect(built.stderr).toContain('exit code: 139');
    await expectNothingLeftBehind();
  });
});

describe('signals to kiln run', () => {
  it('with --init, SIGTERM to kiln reaches the command, which can handle it', async () => {
    const ran = await signalWhen(
      ['run', '--rm', '--init', 'busybox', 'sh', '-c', 'trap "echo got-term; exit 3" TERM; echo ready; while true; do sleep 0.1; done'],
      'ready',
      'SIGTERM',
    );
    expect(ran.stdout).toBe('ready\ngot-term\n');
    expect(ran.code).toBe(3);
  });

  it('without --init, a PID 1 sh ignores SIGTERM and kiln kills it after --stop-timeout (exit 137)', async () => {
    const ran = await signalWhen(['run', '--rm', '--stop-timeout', '1', 'busybox', 'sh', '-c', 'echo ready; sleep 6131; echo not-killed'], 'ready', 'SIGTERM');
    expect(ran.stdout).toBe('ready\n');
    expect(ran.code).toBe(137);
    const waited = ran.endedAt - ran.signalledAt;
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(waited).toBeLessThan(5000);
    await expectNothingLeftBehind('sleep 6131');
  });

  it("SIGTERM becomes the image's STOPSIGNAL", async () => {
    const ran = await signalWhen(
      ['run', '--rm', 'stopsig', 'sh', '-c', 'trap "echo got-usr1; exit 5" USR1; trap "echo got-term; exit 6" TERM; echo ready; while true; do sleep 0.1; done'],
      'ready',
      'SIGTERM',
    );
    expect(ran.stdout).toBe('ready\ngot-usr1\n');
    expect(ran.code).toBe(5);
  });

  it("with --init, an image STOPSIGNAL of SIGUSR1 reaches the command (Node's inspector does not take it)", async () => {
    const ran = await signalWhen(
      ['run', '--rm', '--init', 'stopsig', 'sh', '-c', 'trap "echo got-usr1; exit 5" USR1; echo ready; while true; do sleep 0.1; done'],
      'ready',
      'SIGTERM',
    );
    expect(ran.stdout).toBe('ready\ngot-usr1\n');
    expect(ran.code).toBe(5);
  });

  it('SIGINT is passed on as SIGINT', async () => {
    const ran = await signalWhen(['run', '--rm', 'busybox', 'sh', '-c', 'trap "echo got-int; exit 7" INT; echo ready; while true; do sleep 0.1; done'], 'ready', 'SIGINT');
    expect(ran.stdout).toBe('ready\ngot-int\n');
    expect(ran.code).toBe(7);
  });
});

describe('more signals to kiln run', () => {
  it.each([
    ['SIGHUP', 'HUP'],
    ['SIGQUIT', 'QUIT'],
    ['SIGUSR2', 'USR2'],
  ] as const)('%s is passed on to the container, and kiln cleans up after it', async (sig, trapName) => {
    const ran = await signalWhen(['run', '--rm', 'busybox', 'sh', '-c', `trap "echo got-${trapName}; exit 8" ${trapName}; echo ready; while true; do sleep 0.1; done`], 'ready', sig);
    expect(ran.stdout).toBe(`ready\ngot-${trapName}\n`);
    expect(ran.code).toBe(8);
    await expectNothingLeftBehind();
  });
});

describe('nothing is left behind', () => {
  it('after a successful and a failing kiln run', async () => {
    await expectNothingLeftBehind();
    expect((await runKiln(['run', '--rm', 'busybox', 'sh', '-c', 'sleep 0.2 & echo ok'], { root })).code).toBe(0);
    await expectNothingLeftBehind();
    expect((await runKiln(['run', '--rm', 'busybox', 'sh', '-c', '(sleep 6132 &); exit 9'], { root })).code).toBe(9);
    // The orphaned background sleep dies with the pid namespace.
    await expectNothingLeftBehind('sleep 6132');
  });

  it('after a successful and a failing build', async () => {
    const ok = await makeContext({ Dockerfile: 'FROM busybox\nRUN --mount=type=tmpfs,target=/scratch (sleep 6133 &) ; echo ok > /scratch/x\n' });
    const failing = await makeContext({ Dockerfile: 'FROM busybox\nRUN --mount=type=cache,target=/c (sleep 6134 &) ; exit 4\n' });
    cleanup.push(ok, failing);
    expect((await runKiln(['build', ok], { root })).code).toBe(0);
    await expectNothingLeftBehind('sleep 6133');
    expect((await runKiln(['build', failing], { root })).code).toBe(1);
    await expectNothingLeftBehind('sleep 6134');
  });

  it('after a build of many RUN and COPY steps, each of whose inits was started while the step before ran', async () => {
    const steps = Array.from({ length: 6 }, (_, i) => `COPY f${i} /f${i}\nRUN cat /f${i} >> /all`).join('\n');
    const files = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`f${i}`, `${i}\n`]));
    const context = await makeContext({ Dockerfile: `FROM busybox\n${steps}\nRUN test "$(cat /all | tr -d "\\n")" = 012345\n`, ...files });
    cleanup.push(context);
    const built = await runKiln(['build', context], { root });
    expect(built.code, built.stderr).toBe(0);
    await expectNothingLeftBehind();
  });

  it('after kiln run is killed with SIGKILL: the container dies with it and the next start cleans up', async () => {
    const ran = await signalWhen(['run', '--rm', '--memory', '64m', '--pids-limit', '50', 'busybox', 'sh', '-c', 'echo ready; sleep 6135'], 'ready', 'SIGKILL');
    expect(ran.code).not.toBe(0);
    // The dead kiln's pid is the prefix of its leftovers; find it through the active snapshot it could not remove.
    const active = await readdir(join(root, 'snapshots', 'active'));
    expect(active.length).toBe(1);
    const pid = Number(active[0]!.split('-')[0]);
    expect(await eventuallyEmpty(() => processesMentioning('sleep 6135'))).toEqual([]);
    expect(await eventuallyEmpty(() => processesMentioning(root))).toEqual([]);
  expect(await eventuallyEmpty(() => processesWorkingIn(root))).toEqual([]);
    expect(await mountsMentioning(root)).toEqual([]);
    // The next kiln command removes the dead one's snapshot, step dir and cgroups.
    expect((await runKiln(['run', '--rm', 'busybox', 'true'], { root })).code).toBe(0);
    await expectNothingLeftBehind();
    expect(await stepCgroupsOf(pid)).toEqual([]);
  });

  it('after kiln build is killed with SIGKILL during a RUN', async () => {
    const context = await makeContext({ Dockerfile: "FROM busybox\nRUN echo sta''rted && sleep 6136\n" });
    cleanup.push(context);
    const built = await signalWhen(['build', '--progress=plain', context], 'started', 'SIGKILL');
    expect(built.code).not.toBe(0);
    expect(await eventuallyEmpty(() => processesMentioning('sleep 6136'))).toEqual([]);
    expect(await mountsMentioning(root)).toEqual([]);
    expect((await runKiln(['run', '--rm', 'busybox', 'true'], { root })).code).toBe(0);
    await expectNothingLeftBehind();
  });

  it('after kiln build is killed with SIGKILL during a RUN as another user: the command and the fork server die with it', async () => {
    // A new uid clears the parent-death signal; the init arms it again, or this sleep would outlive the build.
    // (The quotes keep the marker out of the step's title, which plain progress prints before the step runs.)
    const context = await makeContext({ Dockerfile: "FROM busybox\nUSER 1000:1000\nRUN echo sta''rted && sleep 6137\n" });
    cleanup.push(context);
    const built = await signalWhen(['build', '--progress=plain', context], 'started', 'SIGKILL');
    expect(built.code).not.toBe(0);
    expect(await eventuallyEmpty(() => processesMentioning('sleep 6137'))).toEqual([]);
    expect(await eventuallyEmpty(() => processesMentioning(`--fork-server ${built.pid}`))).toEqual([]);
    expect(await mountsMentioning(root)).toEqual([]);
    expect((await runKiln(['run', '--rm', 'busybox', 'true'], { root })).code).toBe(0);
    await expectNothingLeftBehind();
  });
});
