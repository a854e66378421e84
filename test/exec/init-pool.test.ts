// A build's executor keeps an init started ahead of the next step: it is used, replaced, and gone after close().
import { readdir, readFile } from 'node:fs/promises';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createExecutor } from '../../src/exec/index.js';
import { processesWorkingIn } from '../helpers/kiln.js';
import { makeExecFixture, specFor } from './exec-fixture.js';
import type { ExecFixture } from './exec-fixture.js';

let fx: ExecFixture;

beforeAll(async () => {
  fx = await makeExecFixture();
});

afterAll(async () => {
  await fx.dispose();
});

/**
 * The fork servers this process started: argv ends with `--fork-server <builder pid>`. Its clones have the same argv
 * until they exec, but each is PID 1 of a pid namespace of its own (two pids in NSpid).
 */
async function ourForkServers(): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (argv.at(-3) !== '--fork-server' || argv.at(-2) !== String(process.pid)) continue;
    const nsPids = /^NSpid:(.*)$/m.exec(await readFile(`/proc/${entry}/status`, 'utf8').catch(() => ''))?.[1]?.trim().split(/\s+/);
    if (nsPids?.length === 1) found.push(Number(entry));
  }
  return found;
}

/** The parent of host process `pid`. */
async function parentOf(pid: number): Promise<number> {
  return Number(/^PPid:\s*(\d+)$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

/** Runs `args` and returns its exit code, its output and the host pid of its PID 1 (reported when it started). */
async function runWatched(executor: ReturnType<typeof createExecutor>, args: readonly string[], opts: Parameters<typeof specFor>[3] = {}): Promise<{ code: number; text: string; pid: number }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  let pid = 0;
  const status = await executor.run(specFor(fx, args, await fx.layer(), opts), { stdout: out, stderr: out, onStart: (handle) => (pid = handle.pid) }, new AbortController().signal);
  return { code: status.code, text, pid };
}

async function stepDirs(stateDir: string): Promise<string[]> {
  return readdir(join(stateDir, 'steps')).catch(() => []);
}

describe('inits started ahead', () => {
  it('a prewarming executor leaves one spare init after a run, in a step directory of its own, and close() ends it', async () => {
    const stateDir = join(fx.tmp, 'prewarm-state');
    const executor = createExecutor({ stateDir, prewarm: true });
    const outputs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const out = new PassThrough();
      let text = '';
      out.on('data', (c: Buffer) => (text += c.toString()));
      const status = await executor.run(specFor(fx, ['sh', '-c', `echo step ${i}; cat`], await fx.layer()), { stdout: out, stderr: out }, new AbortController().signal);
      expect(status.code).toBe(0);
      outputs.push(text);
      // The spare (or two, when steps outpace Node's start-up) waits in its own directory.
      const spareDirs = new Set((await processesWorkingIn(join(stateDir, 'steps'))).map((line) => line.split(': ')[1]));
      expect(spareDirs.size).toBeGreaterThanOrEqual(1);
      expect(spareDirs.size).toBeLessThanOrEqual(2);
    }
    // Without input, stdin is /dev/null: cat ends at once.
    expect(outputs).toEqual(['step 0\n', 'step 1\n', 'step 2\n']);
    await executor.close();
    expect(await stepDirs(stateDir)).toEqual([]);
    expect(await processesWorkingIn(stateDir)).toEqual([]);
  });

  it('an executor without prewarm keeps nothing between runs', async () => {
    const stateDir = join(fx.tmp, 'plain-state');
    const executor = createExecutor({ stateDir });
    const sink = new PassThrough().resume();
    const status = await executor.run(specFor(fx, ['true'], await fx.layer()), { stdout: sink, stderr: sink }, new AbortController().signal);
    expect(status.code).toBe(0);
    expect(await stepDirs(stateDir)).toEqual([]);
    expect(await processesWorkingIn(stateDir)).toEqual([]);
  });

  it('spares load at the lowest priority, but every command runs at the builder\'s nice value', async () => {
    const stateDir = join(fx.tmp, 'nice-state');
    const own = getPriority();
    // As `nice -n 3 kiln build` would: the builder's value, not 0, is what the commands get.
    setPriority(3);
    const executor = createExecutor({ stateDir, prewarm: true });
    try {
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) {
        const out = new PassThrough();
        let text = '';
        out.on('data', (c: Buffer) => (text += c.toString()));
        // Field 19 of /proc/self/stat is the nice value.
        const status = await executor.run(specFor(fx, ['sh', '-c', 'cut -d" " -f19 /proc/self/stat'], await fx.layer()), { stdout: out, stderr: out }, new AbortController().signal);
        expect(status.code).toBe(0);
        seen.push(text.trim());
      }
      expect(seen).toEqual(['3', '3', '3', '3']);
      // The spare waiting now has taken the builder's value back too; one still loading is at 19.
      const spares = await processesWorkingIn(join(stateDir, 'steps'));
      expect(spares.length).toBeGreaterThanOrEqual(1);
      const nices = await Promise.all(spares.map(async (line) => (await readFile(`/proc/${line.split(':')[0]}/stat`, 'utf8')).split(') ')[1]!.split(' ')[16]));
      for (const nice of nices) expect(['3', '19']).toContain(nice);
    } finally {
      await executor.close();
      setPriority(own);
    }
  });
});

describe('the fork server', () => {
  it("clones a build's container steps as children of the builder, in the namespaces asked for, and close() ends it", async () => {
    const stateDir = join(fx.tmp, 'fork-state');
    const executor = createExecutor({ stateDir, prewarm: true });
    try {
      for (const network of ['none', 'host'] as const) {
        const ran = await runWatched(executor, ['sh', '-c', 'sleep 0.3; hostname; ls /sys/class/net | tr "\\n" " "'], { network, hostname: `h-${network}` });
        expect(ran.code, ran.text).toBe(0);
        expect(ran.text.split('\n')[0]).toBe(`h-${network}`);
        if (network === 'none') expect(ran.text.split('\n')[1]).toBe('lo ');
        else expect(ran.text.split('\n')[1]).not.toBe('lo ');
      }
      // The command (PID 1) was the builder's own child: a clone, not a Node init under unshare.
      const probe = await runWatched(executor, ['sleep', '0.3']);
      expect(probe.code).toBe(0);
      const servers = await ourForkServers();
      expect(servers).toHaveLength(1);
    } finally {
      await executor.close();
    }
    expect(await ourForkServers()).toEqual([]);
    expect(await processesWorkingIn(stateDir)).toEqual([]);
  });

  it('PID 1 of a step is a child of the builder while it runs', async () => {
    const executor = createExecutor({ stateDir: join(fx.tmp, 'fork-parent-state'), prewarm: true });
    try {
      const out = new PassThrough();
      let parent = 0;
      const status = await executor.run(
        specFor(fx, ['sleep', '0.5'], await fx.layer()),
        { stdout: out, stderr: out, onStart: (handle) => void parentOf(handle.pid).then((ppid) => (parent = ppid)) },
        new AbortController().signal,
      );
      expect(status.code).toBe(0);
      expect(parent).toBe(process.pid);
    } finally {
      await executor.close();
    }
  });

  it('a step whose fork server died starts its own init, with a warning, and the build goes on', async () => {
    const executor = createExecutor({ stateDir: join(fx.tmp, 'fork-dead-state'), prewarm: true });
    // Recorded, and still written: a write that never calls back could stall whoever waits for it (vitest too).
    const warnings: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: never[]) => {
      warnings.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stderr.write);
    try {
      expect((await runWatched(executor, ['true'])).code).toBe(0);
      const [server] = await ourForkServers();
      expect(server).toBeDefined();
      process.kill(server!, 'SIGKILL');
      // The spare cloned ahead still runs one step; the next needs the server, finds it gone and starts an init.
      for (let i = 0; i < 3; i++) {
        const ran = await runWatched(executor, ['sh', '-c', `echo step ${i}`]);
        expect(ran).toMatchObject({ code: 0, text: `step ${i}\n` });
      }
      expect(warnings.join('')).toMatch(/kiln: warning: the fork server ended \(SIGKILL\).*each step now starts its own init/);
    } finally {
      spy.mockRestore();
      await executor.close();
    }
  });
});
