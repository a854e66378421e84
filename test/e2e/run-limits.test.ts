// kiln run --memory / --memory-swap: the memory+swap limit docker sets, read back from the container's own cgroup.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runKiln, useKilnRoot } from '../helpers/kiln.js';

const kiln = useKilnRoot();
const MiB = 1024 * 1024;

/** The host directory of the container's memory cgroup, from the /proc/self/cgroup it printed. */
function memoryCgroupDir(procSelfCgroup: string): string {
  const line = procSelfCgroup.split('\n').find((l) => l.split(':')[1]?.split(',').includes('memory'));
  if (line === undefined) throw new Error(`no memory line in ${procSelfCgroup}`);
  for (const mount of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = mount.split(' - ');
    const [fstype, , superOpts] = (post ?? '').split(' ');
    if (fstype !== 'cgroup' || !(superOpts ?? '').split(',').includes('memory')) continue;
    const fields = (pre ?? '').split(' ');
    return join(fields[4]!, relative(fields[3]!, line.split(':')[2]!));
  }
  throw new Error('no memory cgroup mount');
}

/** Runs a container with `flags` and returns its memory and memory+swap limits, read on the host while it runs. */
async function limitsWith(flags: readonly string[]): Promise<{ memory: string; memsw: string }> {
  const ctl = kiln.track(await mkdtemp(join(tmpdir(), 'kiln-e2e-limits-')));
  let output = '';
  const running = runKiln(['run', ...flags, '-v', `${ctl}:/ctl`, 'busybox', 'sh', '-c', 'cat /proc/self/cgroup; echo ready; while [ ! -e /ctl/go ]; do sleep 0.05; done'], {
    root: kiln.root,
    onSpawn: (child) => child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString())),
  });
  for (let i = 0; i < 400 && !output.includes('ready\n'); i++) await sleep(25);
  try {
    const dir = memoryCgroupDir(output);
    return {
      memory: (await readFile(join(dir, 'memory.limit_in_bytes'), 'utf8')).trim(),
      memsw: (await readFile(join(dir, 'memory.memsw.limit_in_bytes'), 'utf8')).trim(),
    };
  } finally {
    await writeFile(join(ctl, 'go'), '');
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
  }
}

describe('kiln run --memory-swap', () => {
  it('--memory alone allows as much swap as memory: memory+swap is twice the limit, as docker sets it', async () => {
    const limits = await limitsWith(['--memory', '32m']);
    expect(limits.memory).toBe(String(32 * MiB));
    expect(limits.memsw).toBe(String(64 * MiB));
  });

  it('--memory-swap sets memory+swap; equal to --memory means no swap at all', async () => {
    expect((await limitsWith(['--memory', '32m', '--memory-swap', '48m'])).memsw).toBe(String(48 * MiB));
    expect((await limitsWith(['-m', '32m', '--memory-swap=32m'])).memsw).toBe(String(32 * MiB));
  });

  it('--memory-swap -1 leaves swap unlimited', async () => {
    const limits = await limitsWith(['--memory', '32m', '--memory-swap', '-1']);
    expect(limits.memory).toBe(String(32 * MiB));
    // The kernel shows "no limit" as the largest page-aligned value.
    expect(BigInt(limits.memsw)).toBeGreaterThan(2n ** 60n);
  });

  it('--memory-swap without --memory, or below it, is a usage error (exit 2) naming the flag', async () => {
    const alone = await runKiln(['run', '--memory-swap', '64m', 'busybox', 'true'], { root: kiln.root });
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--memory-swap.*--memory/);
    const below = await runKiln(['run', '--memory', '64m', '--memory-swap', '32m', 'busybox', 'true'], { root: kiln.root });
    expect(below.code).toBe(2);
    expect(below.stderr).toContain('must be at least the memory limit');
  });
});
