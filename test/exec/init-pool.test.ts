// A build's executor keeps an init started ahead of the next step: it is used, replaced, and gone after close().
import { readdir, readFile } from 'node:fs/promises';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
