// `kiln run` features of Executor.run: terminals, the minimal init, signal forwarding and cgroup limits.
import { readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerHandle } from '../../src/exec/index.js';
import { makeExecFixture, specFor } from './exec-fixture.js';
import type { ExecFixture } from './exec-fixture.js';

let fx: ExecFixture;

beforeAll(async () => {
  fx = await makeExecFixture();
});

afterAll(async () => {
  await fx.dispose();
});

interface Started {
  readonly handle: ContainerHandle;
  readonly output: () => string;
  readonly stdin: PassThrough;
  readonly done: Promise<{ code: number; signal?: string }>;
}

/** Starts a run and resolves once the command is about to start. */
async function start(args: readonly string[], opts: { tty?: boolean; init?: boolean; limits?: { memoryBytes?: number; cpus?: number; pids?: number } } = {}): Promise<Started> {
  const layer = await fx.layer();
  const base = specFor(fx, args, layer);
  const spec = { ...base, process: { ...base.process, tty: opts.tty, init: opts.init }, ...(opts.limits ? { limits: opts.limits } : {}) };
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  let onStart!: (h: ContainerHandle) => void;
  const started = new Promise<ContainerHandle>((resolve) => (onStart = resolve));
  const done = fx.executor.run(spec, { stdin, stdout, stderr: stdout, ttySize: { rows: 24, columns: 80 }, onStart }, new AbortController().signal);
  const handle = await Promise.race([started, done.then(() => Promise.reject(new Error(`ended before starting: ${out}`)))]);
  return { handle, output: () => out, stdin, done };
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Executor.run for kiln run', () => {
  it('runs the command on a terminal of the given size, and resizes it', async () => {
    const s = await start(['sh', '-c', 'tty; stty size; echo ready; read line; stty size; echo "got $line" >&2'], { tty: true });
    await waitFor(() => s.output().includes('ready'), 'ready');
    s.handle.resize({ rows: 50, columns: 132 });
    s.stdin.write('typed\n');
    expect(await s.done).toEqual({ code: 0 });
    // The terminal echoes what is typed; stderr shares the terminal.
    expect(s.output()).toBe('/dev/pts/0\r\n24 80\r\nready\r\ntyped\r\n50 132\r\ngot typed\r\n');
  });

  it('ignores SIGTERM sent to a PID 1 without a handler, like Docker', async () => {
    const s = await start(['sh', '-c', 'echo ready; sleep 1; echo survived']);
    await waitFor(() => s.output().includes('ready'), 'ready');
    s.handle.kill('SIGTERM');
    expect(await s.done).toEqual({ code: 0 });
    expect(s.output()).toContain('survived');
  });

  it('with the minimal init forwards SIGTERM to the command', async () => {
    const s = await start(['sh', '-c', 'echo ready; exec sleep 4102'], { init: true });
    await waitFor(() => s.output().includes('ready'), 'ready');
    await new Promise((r) => setTimeout(r, 100));
    s.handle.kill('SIGTERM');
    expect(await s.done).toEqual({ code: 128 + 15 });
  });

  it.each([
    [false, 1],
    [true, 0],
  ])('with init=%s leaves %i orphaned zombie behind', async (init, zombies) => {
    // The orphan is reparented to PID 1; `sleep` as PID 1 never waits for it, the init does.
    const s = await start(['sh', '-c', '(sleep 0.1 &); exec sleep 2'], { init });
    await new Promise((r) => setTimeout(r, 800));
    expect(await zombiesUnder(s.handle.pid)).toBe(zombies);
    await s.done;
  });

  it('applies a memory limit (the OOM killer stops a greedy process)', async () => {
    const s = await start(['sh', '-c', 'tail /dev/zero; echo "status $?"'], { limits: { memoryBytes: 32 * 1024 * 1024 } });
    expect(await s.done).toEqual({ code: 0 });
    expect(s.output()).toContain('status 137');
  });

  it('applies a pids limit', async () => {
    const s = await start(['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1 & done; echo all started'], { limits: { pids: 5 } });
    expect((await s.done).code).not.toBe(0);
    expect(s.output()).toContain("can't fork");
    expect(s.output()).not.toContain('all started');
  });

  it('applies a CPU quota', async () => {
    const s = await start(['sh', '-c', 'echo ready; sleep 1'], { limits: { cpus: 0.5 } });
    const cgroup = await readFile(`/proc/${s.handle.pid}/cgroup`, 'utf8');
    const cpuPath = /^\d+:(?:[^:]*,)?cpu(?:,[^:]*)?:(.*)$/m.exec(cgroup)?.[1];
    expect(cpuPath).toMatch(/\/kiln\//);
    expect((await readFile(`/sys/fs/cgroup/cpu${cpuPath}/cpu.cfs_quota_us`, 'utf8')).trim()).toBe('50000');
    await s.done;
  });
});

/** Zombie processes in the process tree below (and including) host pid `pid`. */
async function zombiesUnder(pid: number): Promise<number> {
  let count = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    const status = await readFile(`/proc/${p}/status`, 'utf8').catch(() => '');
    if (/^State:\s+Z/m.test(status)) count++;
    const children = await readFile(`/proc/${p}/task/${p}/children`, 'utf8').catch(() => '');
    for (const c of children.trim().split(' ')) if (c !== '') stack.push(Number(c));
  }
  return count;
}
