// --cache-to / --cache-from and prune / du through the CLI: a fresh KILN_ROOT gets the exporter's cache hits.
import { readFile, readdir, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs, makeContext, makeKilnRoot, runKiln } from '../helpers/kiln.js';

let exporter: string;
let importer: string;
let context: string;
let cacheDir: string;

const DOCKERFILE = ['FROM busybox', 'RUN echo one > /one', 'COPY a.txt /a.txt', 'RUN cat /a.txt /one > /both'].join('\n');

function cachedSteps(stderr: string): number {
  return stderr.split('\n').filter((line) => /^#\d+ CACHED/.test(line)).length;
}

beforeAll(async () => {
  exporter = await makeKilnRoot();
  importer = await makeKilnRoot();
  // Both machines need the same base image (the same layer digests) for the cache keys to match.
  const rootfs = await makeBusyboxRootfs();
  try {
    for (const root of [exporter, importer]) {
      const imported = await runKiln(['import', rootfs, 'busybox:latest'], { root });
      if (imported.code !== 0) throw new Error(`kiln import failed: ${imported.stderr}`);
    }
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
  context = await makeContext({ Dockerfile: DOCKERFILE, 'a.txt': 'hello\n' });
  cacheDir = join(context, '..', `${context.split('/').at(-1)}-cache`);
});

afterAll(async () => {
  for (const dir of [exporter, importer, context, cacheDir]) await rm(dir, { recursive: true, force: true });
});

describe('cache export and import through the CLI', () => {
  it('a fresh root building with --cache-from gets every step CACHED and the same files', async () => {
    const first = await runKiln(['build', '--progress=plain', '-t', 'app', '--cache-to', `type=local,dest=${cacheDir},mode=max`, context], { root: exporter });
    expect(first.code, first.stderr).toBe(0);
    const index = JSON.parse(await readFile(join(cacheDir, 'index.json'), 'utf8')) as { manifests: unknown[] };
    expect(index.manifests).toHaveLength(1);

    const second = await runKiln(['build', '--progress=plain', '-t', 'app', '--cache-from', `type=local,src=${cacheDir}`, context], { root: importer });
    expect(second.code, second.stderr).toBe(0);
    expect(cachedSteps(second.stderr)).toBe(3);
    // Same layers (the config's timestamps differ between the two builds, as with docker).
    const diffIds = async (root: string) => {
      const inspected = await runKiln(['inspect', 'app'], { root });
      return (JSON.parse(inspected.stdout) as { Config: { rootfs: { diff_ids: string[] } } }[])[0]!.Config.rootfs.diff_ids;
    };
    expect(await diffIds(importer)).toEqual(await diffIds(exporter));
    const run = await runKiln(['run', '--rm', 'app', 'cat', '/both'], { root: importer });
    expect(run.stdout).toBe('hello\none\n');

    // Used imported records are now local: no --cache-from needed next time.
    const third = await runKiln(['build', '--progress=plain', '-t', 'app', context], { root: importer });
    expect(cachedSteps(third.stderr)).toBeGreaterThanOrEqual(3);
    expect(third.stderr).not.toMatch(/^#\d+ DONE/m);
  });

  it('a cache hit counts as a use: prune --filter until keeps records a rebuild just used, and removes them once unused', async () => {
    const recordFiles = async () => (await readdir(join(importer, 'cache'))).filter((name) => name.endsWith('.json')).sort();
    const backdate = async () => {
      const tenDaysAgo = new Date(Date.now() - 10 * 24 * 3600e3);
      for (const name of await recordFiles()) await utimes(join(importer, 'cache', name), tenDaysAgo, tenDaysAgo);
    };
    const records = await recordFiles();
    expect(records.length).toBeGreaterThanOrEqual(3);
    await backdate();
    const rebuilt = await runKiln(['build', '--progress=plain', '-t', 'app', context], { root: importer });
    expect(cachedSteps(rebuilt.stderr)).toBeGreaterThanOrEqual(3);
    const kept = await runKiln(['prune', '--all', '-f', '--filter', 'until=24h'], { root: importer });
    expect(kept.code, kept.stderr).toBe(0);
    expect(await recordFiles()).toEqual(records);
    await backdate();
    const pruned = await runKiln(['prune', '--all', '-f', '--filter', 'until=24h'], { root: importer });
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(await recordFiles()).toEqual([]);
  });

  it('--cache-to type=registry is a usage error naming the flag', async () => {
    const result = await runKiln(['build', '--cache-to', 'type=registry,ref=x/y:cache', context], { root: importer });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--cache-to type=registry is not supported yet/);
  });

  it('kiln du and kiln prune --all -f keep the tagged image runnable', async () => {
    const du = await runKiln(['du'], { root: exporter });
    expect(du.code, du.stderr).toBe(0);
    expect(du.stdout).toMatch(/^Blobs \(tagged images\)\s+\d+/m);
    const prune = await runKiln(['prune', '--all', '-f'], { root: exporter });
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.stdout).toMatch(/^Total: /m);
    const run = await runKiln(['run', '--rm', 'app', 'cat', '/both'], { root: exporter });
    expect(run.stdout).toBe('hello\none\n');
  });
});
