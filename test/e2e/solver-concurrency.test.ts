// The solver's concurrency through real builds: parallel branches, shared identical steps, clean cancellation.
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { openKilnRoot } from '../../src/engine/kiln-root.js';
import type { ProgressEvent } from '../../src/progress/types.js';
import { processesMentioning, runKiln, useKilnRoot } from '../helpers/kiln.js';

const kiln = useKilnRoot();

function context(files: Record<string, string>): Promise<string> {
  return kiln.context(files);
}

/** Two stages that log their start and end (seconds since epoch, with ns) into a shared cache mount. */
const TWO_BRANCHES = (tag: string): string => `FROM busybox AS a
RUN --mount=type=cache,target=/log,id=timeline-${tag} echo "a start $(cut -d" " -f1 /proc/uptime)" >> /log/t && sleep 1.5 && echo "a end $(cut -d" " -f1 /proc/uptime)" >> /log/t

FROM busybox AS b
RUN --mount=type=cache,target=/log,id=timeline-${tag} echo "b start $(cut -d" " -f1 /proc/uptime)" >> /log/t && sleep 1.5 && echo "b end $(cut -d" " -f1 /proc/uptime)" >> /log/t

FROM busybox
COPY --from=a /etc/passwd /a
COPY --from=b /etc/passwd /b
`;

async function timeline(tag: string): Promise<Record<string, number>> {
  const cacheDirs = join(kiln.root, 'mounts');
  for (const name of await readdir(cacheDirs)) {
    if (!name.endsWith('.id')) continue;
    if ((await readFile(join(cacheDirs, name), 'utf8')) !== `timeline-${tag}`) continue;
    const text = await readFile(join(cacheDirs, name.slice(0, -3), 't'), 'utf8');
    return Object.fromEntries(text.trim().split('\n').map((line) => {
      const [stage, event, at] = line.split(' ');
      return [`${stage} ${event}`, Number(at)];
    }));
  }
  throw new Error(`no cache mount timeline-${tag}`);
}

describe('concurrent solving', () => {
  it('runs independent stages at the same time by default, and one at a time with --max-parallelism 1', async () => {
    const parallel = await context({ Dockerfile: TWO_BRANCHES('parallel') });
    expect((await runKiln(['build', parallel], { root: kiln.root })).code).toBe(0);
    const p = await timeline('parallel');
    expect(Math.max(p['a start']!, p['b start']!)).toBeLessThan(Math.min(p['a end']!, p['b end']!));
    const serial = await context({ Dockerfile: TWO_BRANCHES('serial') });
    expect((await runKiln(['build', '--max-parallelism', '1', serial], { root: kiln.root })).code).toBe(0);
    const s = await timeline('serial');
    const [first, second] = s['a start']! < s['b start']! ? ['a', 'b'] : ['b', 'a'];
    expect(s[`${second} start`]).toBeGreaterThanOrEqual(s[`${first} end`]!);
  });

  it('a failure in one branch cancels the other branch and leaves no container running', async () => {
    const dir = await context({
      Dockerfile: 'FROM busybox AS slow\nRUN sleep 312 && echo never\n\nFROM busybox AS broken\nRUN sleep 1 && exit 5\n\nFROM busybox\nCOPY --from=slow /etc/passwd /a\nCOPY --from=broken /etc/passwd /b\n',
    });
    const result = await runKiln(['build', '--progress=plain', dir], { root: kiln.root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('exit code: 5');
    const slow = /^#(\d+) \[slow 2\/2\] RUN sleep 312/m.exec(result.stderr);
    expect(slow).not.toBeNull();
    expect(result.stderr).toMatch(new RegExp(`^#${slow![1]} ERROR: cancelled$`, 'm'));
    expect(await processesMentioning('sleep 312')).toEqual([]);
  });

  it('two builds in one engine run an identical step once', async () => {
    const dockerfile = 'FROM busybox\nRUN --mount=type=cache,target=/count,id=shared-count echo ran >> /count/runs && sleep 1 && echo done > /result\n';
    const first = await context({ Dockerfile: dockerfile });
    const second = await context({ Dockerfile: dockerfile });
    const opened = await openKilnRoot(kiln.root);
    const engine = new Engine(opened);
    const events: ProgressEvent[] = [];
    const sink = { emit: (event: ProgressEvent) => events.push(event) };
    const request = (contextDir: string) => ({ contextDir, tags: [], buildArgs: {}, noCache: false, maxParallelism: 2, allowInsecure: false });
    const [a, b] = await Promise.all([
      engine.build(request(first), sink, new AbortController().signal),
      engine.build(request(second), sink, new AbortController().signal),
    ]);
    expect(a.manifestDigest === b.manifestDigest || a.graph.root.digest === b.graph.root.digest).toBe(true);
    let runs = '';
    for (const name of await readdir(join(kiln.root, 'mounts'))) {
      if (name.endsWith('.id') && (await readFile(join(kiln.root, 'mounts', name), 'utf8')) === 'shared-count') {
        runs = await readFile(join(kiln.root, 'mounts', name.slice(0, -3), 'runs'), 'utf8');
      }
    }
    expect(runs).toBe('ran\n');
  });

  it('writes each step\'s cache record while the next step runs, and has them all on disk when the build ends', async () => {
    const dir = await context({ Dockerfile: 'FROM busybox\nRUN echo 1 > /one\nRUN echo 2 > /two\nRUN echo 3 > /three\n' });
    const recordsBefore = (await readdir(join(kiln.root, 'cache'))).filter((name) => name.endsWith('.json')).length;
    expect((await runKiln(['build', dir], { root: kiln.root })).code).toBe(0);
    const records = (await readdir(join(kiln.root, 'cache'))).filter((name) => name.endsWith('.json'));
    expect(records.length).toBe(recordsBefore + 3);
    expect(records.some((name) => name.startsWith('.tmp'))).toBe(false);
    const again = await runKiln(['build', '--progress=plain', dir], { root: kiln.root });
    expect(again.stderr.match(/^#\d+ CACHED$/gm)?.length).toBe(4);
  });

  it('fails the build when a cache record cannot be written, though the steps themselves ran', async () => {
    const dir = await context({ Dockerfile: 'FROM busybox\nRUN echo unrecordable > /x\n' });
    const cacheDir = join(kiln.root, 'cache');
    // Immutable: not even root can add a file there, while existing records stay readable.
    execFileSync('chattr', ['+i', cacheDir]);
    try {
      const result = await runKiln(['build', '--progress=plain', dir], { root: kiln.root });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^#2 DONE/m);
      expect(result.stderr).toContain('Dockerfile:2: [2/2] RUN echo unrecordable > /x: the step ran, but its cache record could not be written');
      expect(result.stderr).toContain(cacheDir);
      expect(result.stderr).toMatch(/EPERM|operation not permitted/i);
    } finally {
      execFileSync('chattr', ['-i', cacheDir]);
    }
  });
});
