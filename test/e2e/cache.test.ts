// Build cache through the CLI: a no-op rebuild does no work; an edit rebuilds only what depends on it.
import { chmod, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBusybox, makeContext, makeKilnRoot, runKiln } from '../helpers/kiln.js';

let root: string;
let context: string;

const DOCKERFILE = [
  'FROM busybox',
  'RUN echo base > /base.txt',
  'COPY a.txt /a.txt',
  'RUN cat /a.txt > /a.copy',
  'COPY b.txt /b.txt',
  'RUN cat /b.txt > /b.copy',
].join('\n');

/** Step name → CACHED or ran, from plain progress output. */
function stepStates(stderr: string): Map<string, 'cached' | 'ran'> {
  const names = new Map<string, string>();
  const states = new Map<string, 'cached' | 'ran'>();
  for (const line of stderr.split('\n')) {
    const header = /^#(\d+) (\[.*?\] .*?)(?:  \(.*\))?$/.exec(line);
    if (header && !names.has(header[1]!)) names.set(header[1]!, header[2]!);
    const state = /^#(\d+) (CACHED|DONE)/.exec(line);
    if (state) states.set(names.get(state[1]!)!, state[2] === 'CACHED' ? 'cached' : 'ran');
  }
  return states;
}

async function build(): Promise<Map<string, 'cached' | 'ran'>> {
  const result = await runKiln(['build', '--progress=plain', '-t', 'cached', context], { root });
  expect(result.code, result.stderr).toBe(0);
  return stepStates(result.stderr);
}

function ranSteps(states: Map<string, 'cached' | 'ran'>): string[] {
  return [...states].filter(([name, state]) => state === 'ran' && !name.includes('FROM')).map(([name]) => name);
}

beforeAll(async () => {
  root = await makeKilnRoot();
  await importBusybox(root);
  context = await makeContext({ Dockerfile: DOCKERFILE, 'a.txt': 'a1', 'b.txt': 'b1' });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(context, { recursive: true, force: true });
});

describe('build cache', () => {
  it('a no-op rebuild reports every step CACHED', async () => {
    const first = await build();
    expect(ranSteps(first)).toHaveLength(5);
    const second = await build();
    expect(second.size).toBeGreaterThanOrEqual(5);
    for (const [name, state] of second) expect([name, state]).toEqual([name, 'cached']);
  });

  it('changing one context file rebuilds only the steps downstream of its COPY', async () => {
    await build();
    await writeFile(join(context, 'b.txt'), 'b2');
    const states = await build();
    expect(ranSteps(states)).toEqual(['[5/6] COPY b.txt /b.txt', '[6/6] RUN cat /b.txt > /b.copy']);
    const ran = await runKiln(['run', '--rm', 'cached', 'cat', '/b.copy'], { root });
    expect(ran.stdout).toBe('b2');
  });

  it('touching a file without changing it keeps the COPY cached', async () => {
    await build();
    const later = new Date(Date.now() + 60_000);
    await utimes(join(context, 'a.txt'), later, later);
    const states = await build();
    expect(ranSteps(states)).toEqual([]);
  });

  it('changing only a file mode misses the cache from that COPY on', async () => {
    await build();
    await chmod(join(context, 'a.txt'), 0o600);
    const states = await build();
    expect(ranSteps(states)).toEqual(['[3/6] COPY a.txt /a.txt', '[4/6] RUN cat /a.txt > /a.copy', '[5/6] COPY b.txt /b.txt', '[6/6] RUN cat /b.txt > /b.copy']);
  });

  it('--no-cache runs every step again', async () => {
    const result = await runKiln(['build', '--progress=plain', '--no-cache', '-t', 'cached', context], { root });
    expect(result.code).toBe(0);
    expect(ranSteps(stepStates(result.stderr))).toHaveLength(5);
  });
});
