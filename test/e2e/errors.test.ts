// Failures through the CLI: clear one-line errors with positions, the right exit codes, and nothing left behind.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mountsMentioning, processesMentioning, runKiln, useKilnRoot } from '../helpers/kiln.js';

const kiln = useKilnRoot();

function contextWith(dockerfile: string, files: Record<string, string> = {}): Promise<string> {
  return kiln.context({ Dockerfile: dockerfile, ...files });
}

async function imageNames(): Promise<string> {
  return (await runKiln(['images'], { root: kiln.root })).stdout;
}

/** Nothing of a failed or killed build may survive: no mounts, no container processes, no active snapshots. */
async function expectNothingLeftBehind(): Promise<void> {
  expect(await mountsMentioning(kiln.root)).toEqual([]);
  expect(await processesMentioning(join(kiln.root, 'snapshots'))).toEqual([]);
  expect(await readdir(join(kiln.root, 'snapshots', 'active'))).toEqual([]);
}

describe('build errors', () => {
  it('a failing RUN names the step, its line and exit code, exits 1 and tags nothing', async () => {
    const before = await imageNames();
    const context = await contextWith('FROM busybox\nRUN echo ok\nRUN exit 3\n');
    const result = await runKiln(['build', '-t', 'broken', context], { root: kiln.root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Dockerfile:3');
    expect(result.stderr).toContain('RUN exit 3');
    expect(result.stderr).toContain('exit code: 3');
    expect(await imageNames()).toBe(before);
    await expectNothingLeftBehind();
  });

  it('a missing base image is a one-line error with the file and line', async () => {
    const context = await contextWith('FROM busybox\nFROM nosuchimage:1.0\nRUN true\n');
    const result = await runKiln(['build', context], { root: kiln.root });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Dockerfile:2/);
    expect(result.stderr).toContain('nosuchimage:1.0');
  });

  it('a missing COPY source is a one-line error with the file and line', async () => {
    const context = await contextWith('FROM busybox\n\nCOPY missing.txt /x\n');
    const result = await runKiln(['build', context], { root: kiln.root });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Dockerfile:3/);
    expect(result.stderr).toContain('missing.txt');
    await expectNothingLeftBehind();
  });

  it('a Dockerfile syntax error names the file, line and column', async () => {
    const context = await contextWith('FROM busybox\nRUN echo hi\nFROMM busybox\n');
    const result = await runKiln(['build', context], { root: kiln.root });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Dockerfile:3:1: .*unknown instruction: FROMM/i);
  });

  it('a usage error exits 2', async () => {
    const result = await runKiln(['build', '--no-such-flag', '.'], { root: kiln.root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--no-such-flag');
    expect((await runKiln(['build'], { root: kiln.root })).code).toBe(2);
    expect((await runKiln(['frobnicate'], { root: kiln.root })).code).toBe(2);
  });

  it('SIGINT during a long RUN stops the build, kills the container and unmounts everything', async () => {
    const context = await contextWith('FROM busybox\nRUN echo started && sleep 311\n');
    let sent = false;
    const result = await runKiln(['build', '--progress=plain', '-t', 'interrupted', context], {
      root: kiln.root,
      onSpawn: (child) => {
        child.stderr?.on('data', (chunk: Buffer) => {
          if (!sent && chunk.toString().includes('started')) {
            sent = true;
            child.kill('SIGINT');
          }
        });
      },
    });
    expect(sent).toBe(true);
    expect(result.code).not.toBe(0);
    expect(await imageNames()).not.toContain('interrupted');
    expect(await processesMentioning('sleep 311')).toEqual([]);
    await expectNothingLeftBehind();
  });
});
