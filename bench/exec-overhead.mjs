#!/usr/bin/env node
// Per-step cost of `RUN true` through kiln's executor (a Node init started per run, as `kiln run` does, and an init
// cloned one run ahead by the fork server, as a build does) versus `runc run` on the same busybox rootfs; kiln mounts
// an overlay with a fresh upper dir, runc uses the plain directory. Then the same through whole builds: 50 `RUN true` steps with --no-cache.
// Usage: node bench/exec-overhead.mjs [N]   (root; needs a built dist/ and Debian's runc and busybox-static)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const { createExecutor } = await import(join(repo, 'dist', 'exec', 'index.js'));
const runs = Number(process.argv[2] ?? 50);
const tmp = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
const rootfs = join(tmp, 'rootfs');
execFileSync(join(repo, 'scripts', 'busybox-rootfs.sh'), [rootfs]);

function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p10: at(0.1), p90: at(0.9) };
}

function kilnRunner(network, prewarm) {
  const executor = createExecutor({ stateDir: join(tmp, 'state'), prewarm });
  const sink = new PassThrough().resume();
  let n = 0;
  const runner = async () => {
    n += 1;
    const upperDir = join(tmp, `u-${network}-${prewarm}-${n}`);
    const workDir = join(tmp, `w-${network}-${prewarm}-${n}`);
    mkdirSync(upperDir);
    mkdirSync(workDir);
    const t0 = performance.now();
    const status = await executor.run(
      {
        rootfs: { kind: 'overlay', lowerDirs: [rootfs], upperDir, workDir },
        process: { args: ['true'], env: ['PATH=/bin'], cwd: '/', user: '' },
        hostname: 'bench',
        network,
        mounts: [],
      },
      { stdout: sink, stderr: sink },
      new AbortController().signal,
    );
    const dt = performance.now() - t0;
    if (status.code !== 0) throw new Error(`kiln run failed: ${JSON.stringify(status)}`);
    rmSync(upperDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
    return dt;
  };
  runner.close = () => executor.close();
  return runner;
}

function runOnce(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

function runcRunner(network, args = ['true']) {
  const bundle = join(tmp, `bundle-${network}-${args.length}`);
  mkdirSync(bundle);
  execFileSync('runc', ['spec'], { cwd: bundle });
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  config.root = { path: rootfs, readonly: true };
  config.process.args = args;
  config.process.terminal = false;
  config.hostname = 'bench';
  // runc's default spec has a network namespace (net=none); host networking drops it.
  if (network === 'host') config.linux.namespaces = config.linux.namespaces.filter((ns) => ns.type !== 'network');
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  let n = 0;
  return async () => {
    n += 1;
    const t0 = performance.now();
    await runOnce('runc', ['run', '--bundle', bundle, `kiln-bench-${process.pid}-${network}-${n}`], { env: { PATH: process.env.PATH } });
    return performance.now() - t0;
  };
}

/**
 * Alternates blocks of back-to-back runs (as a build runs its steps) so all runners see the same machine load: a
 * kiln init started ahead warms up during the previous kiln run, never during a runc run. The first round warms up.
 */
async function compare(network) {
  const runners = { fresh: kilnRunner(network, false), ahead: kilnRunner(network, true), runc: runcRunner(network) };
  const times = { fresh: [], ahead: [], runc: [] };
  const BLOCK = 5;
  const rounds = Math.ceil(runs / BLOCK) + 1;
  for (let round = 0; round < rounds; round++) {
    for (const [name, runner] of Object.entries(runners)) {
      for (let i = 0; i < BLOCK; i++) {
        const t = await runner();
        if (round > 0) times[name].push(t);
      }
    }
  }
  await runners.fresh.close();
  await runners.ahead.close();
  return { fresh: stats(times.fresh), ahead: stats(times.ahead), runc: stats(times.runc) };
}

/**
 * Whole builds through the CLI with --no-cache: a Dockerfile of STEPS `RUN true` steps against the same Dockerfile
 * without them; the difference over STEPS is what one RUN step costs a build (init, overlay, diff, layer, commit).
 * Each round also times STEPS back-to-back `runc run`s of what such a step runs (`/bin/sh -c true`, host network as
 * a build step has): the machine's speed drifts, so each round's pair is compared, not two separate medians.
 */
async function perStepInBuilds(rounds) {
  const STEPS = 50;
  const root = join(tmp, 'kiln-root');
  const kiln = join(repo, 'bin', 'kiln');
  const env = { PATH: process.env.PATH, KILN_ROOT: root };
  execFileSync(process.execPath, [kiln, 'import', rootfs, 'busybox:latest'], { env });
  const contextOf = (steps) => {
    const dir = join(tmp, `ctx-${steps}`);
    mkdirSync(dir, { recursive: true });
    const lines = ['FROM busybox', ...Array.from({ length: steps }, (_, i) => `RUN true ${i}`), 'CMD ["true"]'];
    writeFileSync(join(dir, 'Dockerfile'), `${lines.join('\n')}\n`);
    return dir;
  };
  const withSteps = contextOf(STEPS);
  const without = contextOf(0);
  const build = (dir) => {
    const t0 = performance.now();
    execFileSync(process.execPath, [kiln, 'build', '--no-cache', '--progress=plain', dir], { env, stdio: 'ignore' });
    return performance.now() - t0;
  };
  const runc = runcRunner('host', ['/bin/sh', '-c', 'true']);
  const runcSequence = async () => {
    let total = 0;
    for (let i = 0; i < STEPS; i++) total += await runc();
    return total / STEPS;
  };
  const perStep = [];
  const runcPerContainer = [];
  const ratios = [];
  build(withSteps);
  await runcSequence();
  for (let i = 0; i < rounds; i++) {
    const kilnStep = (build(withSteps) - build(without)) / STEPS;
    const runcStep = await runcSequence();
    perStep.push(kilnStep);
    runcPerContainer.push(runcStep);
    ratios.push(kilnStep / runcStep);
  }
  return { kiln: stats(perStep), runc: stats(runcPerContainer), ratio: stats(ratios) };
}

const fmt = (s) => `median ${s.median.toFixed(1)} ms (p10 ${s.p10.toFixed(1)}, p90 ${s.p90.toFixed(1)})`;
try {
  console.log(`RUN true, ${runs} runs each`);
  for (const network of ['none', 'host']) {
    const { fresh, ahead, runc } = await compare(network);
    console.log(`kiln, init cloned ahead (fork server), network ${network}: ${fmt(ahead)}`);
    console.log(`kiln, Node init started per run, network ${network}: ${fmt(fresh)}`);
    console.log(`runc run,                  network ${network}: ${fmt(runc)}`);
  }
  const builds = await perStepInBuilds(5);
  console.log(`kiln build --no-cache, per RUN true step of 50 (5 builds): ${fmt(builds.kiln)}`);
  console.log(`runc run of /bin/sh -c true, 50 in a row, per container:  ${fmt(builds.runc)}`);
  console.log(`kiln step / runc container, per round: median ${builds.ratio.median.toFixed(2)} (p10 ${builds.ratio.p10.toFixed(2)}, p90 ${builds.ratio.p90.toFixed(2)}); target <= 1`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
