#!/usr/bin/env node
// Build benchmarks (issue 5): each scenario cold, as a no-op rebuild, and after changing one file.
// Prints median wall time and peak RSS of the kiln process (GNU time). Run: node bench/build-scenarios.mjs [scenario...]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const kiln = join(repo, 'bin', 'kiln');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

function timed(args, env) {
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, kiln, ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`kiln ${args.join(' ')} failed:\n${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  return { ms, rssMb: Number(lines.at(-1)) / 1024 };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function newRoot() {
  const root = mkdtempSync(join(tmpdir(), 'kiln-bench-root-'));
  const rootfs = mkdtempSync(join(tmpdir(), 'kiln-bench-rootfs-'));
  execFileSync(join(repo, 'scripts', 'busybox-rootfs.sh'), [rootfs]);
  execFileSync(process.execPath, [kiln, 'import', rootfs, 'busybox:latest'], { env: { PATH: process.env.PATH, KILN_ROOT: root } });
  rmSync(rootfs, { recursive: true, force: true });
  return root;
}

function report(name, phase, samples) {
  const ms = median(samples.map((s) => s.ms));
  const rss = Math.max(...samples.map((s) => s.rssMb));
  console.log(`${name.padEnd(28)} ${phase.padEnd(22)} median ${ms.toFixed(0).padStart(6)} ms   peak RSS ${rss.toFixed(0).padStart(4)} MB`);
  return ms;
}

/** Cold (fresh root each run), no-op rebuild, and rebuild after `edit`. */
function scenario(name, context, extraArgs, edit) {
  const cold = [];
  let root;
  for (let i = 0; i < RUNS; i++) {
    if (root) rmSync(root, { recursive: true, force: true });
    root = newRoot();
    cold.push(timed(['build', '--progress=plain', ...extraArgs, context], { KILN_ROOT: root }));
  }
  report(name, 'cold', cold);
  const noop = [];
  for (let i = 0; i < RUNS; i++) noop.push(timed(['build', '--progress=plain', ...extraArgs, context], { KILN_ROOT: root }));
  report(name, 'no-op rebuild', noop);
  const changed = [];
  for (let i = 0; i < RUNS; i++) {
    edit(i);
    changed.push(timed(['build', '--progress=plain', ...extraArgs, context], { KILN_ROOT: root }));
  }
  report(name, 'one file changed', changed);
  rmSync(root, { recursive: true, force: true });
  return { cold, root };
}

function tenSteps() {
  const context = mkdtempSync(join(tmpdir(), 'kiln-bench-ctx-'));
  const lines = ['FROM busybox', 'WORKDIR /app'];
  for (let i = 0; i < 4; i++) {
    writeFileSync(join(context, `f${i}.txt`), `file ${i}\n`);
    lines.push(`COPY f${i}.txt ./`, `RUN cat f${i}.txt >> all.txt`);
  }
  lines.push('CMD ["cat", "/app/all.txt"]');
  writeFileSync(join(context, 'Dockerfile'), `${lines.join('\n')}\n`);
  scenario('10-step Dockerfile', context, [], (i) => writeFileSync(join(context, 'f3.txt'), `changed ${i}\n`));
  rmSync(context, { recursive: true, force: true });
}

function parallelStages() {
  const context = mkdtempSync(join(tmpdir(), 'kiln-bench-ctx-'));
  const stages = [0, 1, 2, 3].map((n) => `FROM busybox AS s${n}\nCOPY seed${n}.txt /seed\nRUN i=0; while [ $i -lt 1500000 ]; do i=$((i+1)); done; cat /seed > /out${n}`);
  const final = `FROM busybox\n${[0, 1, 2, 3].map((n) => `COPY --from=s${n} /out${n} /out${n}`).join('\n')}\n`;
  for (const n of [0, 1, 2, 3]) writeFileSync(join(context, `seed${n}.txt`), `${n}\n`);
  writeFileSync(join(context, 'Dockerfile'), `${stages.join('\n')}\n${final}`);
  const parallel = scenario('4 CPU stages (parallel)', context, [], (i) => writeFileSync(join(context, 'seed0.txt'), `x${i}\n`));
  const serial = scenario('4 CPU stages (--max-par 1)', context, ['--max-parallelism', '1'], (i) => writeFileSync(join(context, 'seed0.txt'), `y${i}\n`));
  const speedup = median(serial.cold.map((s) => s.ms)) / median(parallel.cold.map((s) => s.ms));
  console.log(`${''.padEnd(28)} cold speedup over --max-parallelism 1: ${speedup.toFixed(2)}x`);
  rmSync(context, { recursive: true, force: true });
}

function bigContext() {
  const context = mkdtempSync(join(tmpdir(), 'kiln-bench-ctx-'));
  const chunk = Buffer.alloc(15 * 1024);
  for (let i = 0; i < 20_000; i++) {
    const dir = join(context, 'src', `d${Math.floor(i / 200)}`);
    if (i % 200 === 0) mkdirSync(dir, { recursive: true });
    chunk.writeUInt32LE(i, 0);
    writeFileSync(join(dir, `f${i}.bin`), chunk);
  }
  writeFileSync(join(context, 'Dockerfile'), 'FROM busybox\nCOPY src /src\nRUN ls /src | wc -l\n');
  scenario('20,000 files / 300 MB', context, [], (i) => writeFileSync(join(context, 'src', 'd7', 'f1400.bin'), `changed ${i}`));
  rmSync(context, { recursive: true, force: true });
}

const scenarios = { 'ten-steps': tenSteps, parallel: parallelStages, 'big-context': bigContext };
const chosen = process.argv.slice(2);
for (const [name, run] of Object.entries(scenarios)) if (chosen.length === 0 || chosen.includes(name)) run();
