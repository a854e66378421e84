// What a user sees while building: plain lines, typed JSON events, the live TTY display, the graph picture.
import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBusybox, kilnBin, makeContext, makeKilnRoot, runKiln } from '../helpers/kiln.js';

let root: string;
let context: string;

beforeAll(async () => {
  root = await makeKilnRoot();
  await importBusybox(root);
  context = await makeContext({
    Dockerfile: 'FROM busybox AS base\nRUN echo one > /one\n\nFROM base\nCOPY file.txt /file.txt\nRUN echo step-output && cat /file.txt\n',
    'file.txt': 'content\n',
  });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(context, { recursive: true, force: true });
});

describe('progress output', () => {
  it('plain progress shows each step with its Dockerfile line, its output and its duration', async () => {
    const result = await runKiln(['build', '--progress=plain', context], { root });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^#\d+ \[stage-1 2\/2\] RUN echo step-output && cat \/file.txt {2}\(Dockerfile:6\)$/m);
    expect(result.stderr).toMatch(/^#\d+ [\d.]+ step-output$/m);
    expect(result.stderr).toMatch(/^#\d+ DONE \d+\.\ds$/m);
  });

  it('rawjson writes one typed event per line', async () => {
    const result = await runKiln(['build', '--progress=rawjson', '--no-cache', context], { root });
    expect(result.code, result.stderr).toBe(0);
    const events = result.stderr.trim().split('\n').map((line) => JSON.parse(line) as { kind: string; name?: string; data?: string });
    expect(events.some((event) => event.kind === 'vertex-started' && event.name?.includes('RUN echo one'))).toBe(true);
    expect(events.some((event) => event.kind === 'vertex-log' && event.data?.includes('step-output'))).toBe(true);
    expect(events.filter((event) => event.kind === 'vertex-done').length).toBeGreaterThanOrEqual(3);
  });

  it('explains a cache miss: which kind of input changed since the last build', async () => {
    await runKiln(['build', '--progress=plain', context], { root });
    execFileSync('sh', ['-c', `echo changed > ${context}/file.txt`]);
    const result = await runKiln(['build', '--progress=plain', context], { root });
    expect(result.stderr).toMatch(/cache miss: files selected by this step changed in the build context: file.txt changed/);
    expect(result.stderr).toMatch(/cache miss: the previous step's result changed/);
  });

  it('on a terminal, shows the BuildKit-style step list with CACHED marks and collapses into a summary', () => {
    const screen = execFileSync('script', ['-qec', `${process.execPath} ${kilnBin} build ${context}`, '/dev/null'], {
      env: { PATH: process.env.PATH, KILN_ROOT: root, TERM: 'xterm', COLUMNS: '120', LINES: '40' },
    }).toString();
    expect(screen).toMatch(/\[\+\] Building [\d.]+s \(\d+\/\d+\) FINISHED/);
    expect(screen).toMatch(/=> CACHED \[stage-1 2\/2\] RUN echo step-output/);
  });

  it('--print graph=dot draws the stages as clusters with the state of each vertex, and the pruned stages', async () => {
    const withUnused = await makeContext({
      Dockerfile: `FROM busybox AS unused\nRUN echo never\n\n${await readFile(join(context, 'Dockerfile'), 'utf8')}`,
      'file.txt': 'content\n',
    });
    const result = await runKiln(['build', '--print', 'graph=dot', withUnused], { root });
    await rm(withUnused, { recursive: true, force: true });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^digraph /);
    expect(result.stdout).toMatch(/subgraph cluster_\d+ \{/);
    expect(result.stdout).toContain('label="base"');
    expect(result.stdout).toContain('RUN echo one');
    expect(result.stdout).toMatch(/label="unused";\n\s+n\d+ \[label="FROM busybox \(not needed for the target: not built\)".*style="rounded,dashed"/);
    expect(result.stdout).not.toContain('RUN echo never');
  });
});
