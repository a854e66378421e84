// kiln run --pids-limit / --cpus on a real cgroup2 hierarchy: pids and cpu are moved off cgroup v1 for this file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKiln, useKilnRoot } from '../helpers/kiln.js';
import type { KilnResult } from '../helpers/kiln.js';
import { expectForkLimited, forkLoop } from '../helpers/pids-limit.js';
import { cgroup2Mount, cgroupHostState, moveControllersToV2, restoreControllers } from './cgroup-controllers.js';
import type { ControllersOnV2 } from './cgroup-controllers.js';

const kiln = useKilnRoot();
let moved: ControllersOnV2 | undefined;
let before: ReturnType<typeof cgroupHostState>;
let v2 = '';

const CONTROLLERS = ['pids', 'cpu'];

beforeAll(async () => {
  before = cgroupHostState(CONTROLLERS);
  v2 = cgroup2Mount();
  moved = await moveControllersToV2(CONTROLLERS);
});

afterAll(async () => {
  if (moved !== undefined) await restoreControllers(moved);
  expect(existsSync(join(v2, 'kiln')), 'a kiln cgroup is left in cgroup2').toBe(false);
  expect(cgroupHostState(CONTROLLERS)).toEqual(before);
});

/** The step cgroup path named by the container's "0::" line of /proc/self/cgroup. */
function unifiedPath(procSelfCgroup: string): string {
  const line = procSelfCgroup.split('\n').find((l) => l.startsWith('0::'));
  if (line === undefined) throw new Error(`no cgroup2 line in ${procSelfCgroup}`);
  return line.slice(3);
}

/**
 * Runs a container that prints its /proc/self/cgroup and "ready", then runs `body` until the test creates `go` in
 * the host dir bound at /ctl; `whileRunning` gets the output so far.
 */
async function holdContainer(flags: readonly string[], body: string, whileRunning: (stdout: string) => Promise<void>): Promise<KilnResult> {
  const ctl = kiln.track(await mkdtemp(join(tmpdir(), 'kiln-e2e-cgroup2-')));
  let output = '';
  const running = runKiln(['run', '--rm', ...flags, '-v', `${ctl}:/ctl`, 'busybox', 'sh', '-c', `cat /proc/self/cgroup; echo ready; ${body}; echo released`], {
    root: kiln.root,
    onSpawn: (child) => child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString())),
  });
  let ended = false;
  void running.then(() => (ended = true));
  for (let i = 0; i < 800 && !ended && !output.includes('ready\n'); i++) await sleep(25);
  if (!output.includes('ready\n')) {
    const result = await running;
    throw new Error(`the container never got ready (${result.code}): ${result.stdout}${result.stderr}`);
  }
  try {
    await whileRunning(output);
  } finally {
    await writeFile(join(ctl, 'go'), '');
  }
  return running;
}

const WAIT_FOR_GO = 'while [ ! -e /ctl/go ]; do sleep 0.05; done';

describe('kiln run limits on cgroup2', () => {
  it('--pids-limit and --cpus put the container in <cgroup2>/kiln/<step> with pids.max and cpu.max set', async () => {
    let step = '';
    const result = await holdContainer(['--pids-limit', '20', '--cpus', '0.5'], WAIT_FOR_GO, async (output) => {
      const cgPath = unifiedPath(output);
      expect(cgPath).toMatch(/^\/kiln\/\d+-[0-9a-f]+$/);
      // Neither controller has a v1 line any more: both limits come from the one cgroup2 directory.
      expect(output).not.toMatch(/^\d+:(pids|cpu):/m);
      step = join(v2, cgPath);
      expect((await readFile(join(step, 'pids.max'), 'utf8')).trim()).toBe('20');
      expect((await readFile(join(step, 'cpu.max'), 'utf8')).trim()).toBe('50000 100000');
      expect(Number((await readFile(join(step, 'pids.current'), 'utf8')).trim())).toBeGreaterThanOrEqual(1);
      // Only what the limits need is enabled, at the top and in kiln/.
      for (const dir of [v2, join(v2, 'kiln')]) expect((await readFile(join(dir, 'cgroup.subtree_control'), 'utf8')).trim().split(' ').sort()).toEqual(['cpu', 'pids']);
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/released\n$/);
    // Removed once the container is gone, as on v1.
    expect(existsSync(step)).toBe(false);
  });

  it('--pids-limit 5 makes some of 10 background sleeps fail to fork', async () => {
    const ran = await runKiln(['run', '--rm', '--pids-limit', '5', 'busybox', 'sh', '-c', `cat /proc/self/cgroup; ${forkLoop(6142)}`], {
      root: kiln.root,
    });
    expect(ran.stdout).toMatch(/^0::\/kiln\/\d+-[0-9a-f]+$/m);
    await expectForkLimited(ran, 6142);
  });

  it('--cpus 0.2 throttles a busy loop: the cgroup2 cpu.stat counts throttled periods', async () => {
    let stat = '';
    const result = await holdContainer(['--cpus', '0.2'], 'while [ ! -e /ctl/go ]; do :; done', async (output) => {
      await sleep(600);
      stat = await readFile(join(v2, unifiedPath(output), 'cpu.stat'), 'utf8');
    });
    expect(result.code, result.stderr).toBe(0);
    const field = (name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(stat)?.[1]);
    expect(field('nr_throttled'), stat).toBeGreaterThan(0);
    // 0.2 CPUs over the ~0.6 s the loop ran: far below one whole CPU's worth.
    expect(field('usage_usec'), stat).toBeLessThan(400_000);
  });

  it('a limit on v1 and one on cgroup2 together: memory in the v1 step cgroup, pids in the cgroup2 one', async () => {
    const result = await holdContainer(['--memory', '64m', '--pids-limit', '30'], WAIT_FOR_GO, async (output) => {
      const unified = unifiedPath(output);
      const memory = /^\d+:memory:(.*)$/m.exec(output)?.[1];
      expect(memory).toMatch(/\/kiln\/\d+-[0-9a-f]+$/);
      // One step, one id in both hierarchies.
      expect(memory?.split('/').at(-1)).toBe(unified.split('/').at(-1));
      expect((await readFile(join(v2, unified, 'pids.max'), 'utf8')).trim()).toBe('30');
      expect(existsSync(join(v2, unified, 'memory.max'))).toBe(false);
    });
    expect(result.code, result.stderr).toBe(0);
  });

  it("start-up cleanup removes a dead kiln's cgroup2 step cgroups", async () => {
    const dead = spawnSync('/bin/true').pid as number;
    const stale = join(v2, 'kiln', `${dead}-abc`);
    mkdirSync(stale, { recursive: true });
    const ran = await runKiln(['run', '--rm', '--pids-limit', '10', 'busybox', 'true'], { root: kiln.root });
    expect(ran.code, ran.stderr).toBe(0);
    expect(existsSync(stale)).toBe(false);
  });
});
