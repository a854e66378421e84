#!/usr/bin/env node
// Per-step cost of `RUN true` through kiln's executor versus `runc run` on the same busybox rootfs (medians of N runs).
// Usage: node bench/exec-overhead.mjs [N]   (root; needs a built dist/ and Debian's runc and busybox-static)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
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

async function benchKiln(network) {
  const executor = createExecutor({ stateDir: join(tmp, 'state') });
  const sink = new PassThrough().resume();
  const times = [];
  for (let i = 0; i < runs + 2; i++) {
    const upperDir = join(tmp, `u-${network}-${i}`);
    const workDir = join(tmp, `w-${network}-${i}`);
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
    // The first runs warm the page cache and create the shared stub layer.
    if (i >= 2) times.push(dt);
    rmSync(upperDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  }
  return stats(times);
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

async function benchRunc(network) {
  const bundle = join(tmp, `bundle-${network}`);
  mkdirSync(bundle);
  execFileSync('runc', ['spec'], { cwd: bundle });
  const config = JSON.parse(execFileSync('cat', [join(bundle, 'config.json')]).toString());
  config.root = { path: rootfs, readonly: true };
  config.process.args = ['true'];
  config.process.terminal = false;
  config.hostname = 'bench';
  // runc's default spec has a network namespace (net=none); host networking drops it.
  if (network === 'host') config.linux.namespaces = config.linux.namespaces.filter((n) => n.type !== 'network');
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  const times = [];
  for (let i = 0; i < runs + 2; i++) {
    const t0 = performance.now();
    await runOnce('runc', ['run', '--bundle', bundle, `kiln-bench-${process.pid}-${i}`], { env: { PATH: process.env.PATH } });
    if (i >= 2) times.push(performance.now() - t0);
  }
  return stats(times);
}

const fmt = (s) => `median ${s.median.toFixed(1)} ms (p10 ${s.p10.toFixed(1)}, p90 ${s.p90.toFixed(1)})`;
try {
  console.log(`RUN true, ${runs} runs each`);
  console.log(`kiln executor, network none: ${fmt(await benchKiln('none'))}`);
  console.log(`runc run,      network none: ${fmt(await benchRunc('none'))}`);
  console.log(`kiln executor, network host: ${fmt(await benchKiln('host'))}`);
  console.log(`runc run,      network host: ${fmt(await benchRunc('host'))}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
