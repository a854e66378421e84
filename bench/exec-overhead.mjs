#!/usr/bin/env node
// Per-step cost of `RUN true` through kiln's executor versus `runc run` on the same busybox rootfs (medians of N
// interleaved runs; kiln mounts an overlay with a fresh upper dir, runc uses the plain directory).
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

function kilnRunner(network) {
  const executor = createExecutor({ stateDir: join(tmp, 'state') });
  const sink = new PassThrough().resume();
  let n = 0;
  return async () => {
    n += 1;
    const upperDir = join(tmp, `u-${network}-${n}`);
    const workDir = join(tmp, `w-${network}-${n}`);
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

function runcRunner(network) {
  const bundle = join(tmp, `bundle-${network}`);
  mkdirSync(bundle);
  execFileSync('runc', ['spec'], { cwd: bundle });
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  config.root = { path: rootfs, readonly: true };
  config.process.args = ['true'];
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

/** Alternates the two runners so both see the same machine load; the first two rounds only warm up. */
async function compare(network) {
  const kiln = kilnRunner(network);
  const runc = runcRunner(network);
  const k = [];
  const r = [];
  for (let i = 0; i < runs + 2; i++) {
    const kt = await kiln();
    const rt = await runc();
    if (i >= 2) {
      k.push(kt);
      r.push(rt);
    }
  }
  return { kiln: stats(k), runc: stats(r) };
}

const fmt = (s) => `median ${s.median.toFixed(1)} ms (p10 ${s.p10.toFixed(1)}, p90 ${s.p90.toFixed(1)})`;
try {
  console.log(`RUN true, ${runs} runs each`);
  for (const network of ['none', 'host']) {
    const { kiln, runc } = await compare(network);
    console.log(`kiln executor, network ${network}: ${fmt(kiln)}`);
    console.log(`runc run,      network ${network}: ${fmt(runc)}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
