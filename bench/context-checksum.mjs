#!/usr/bin/env node
// Context checksum timing: a generated build context (many small files plus a few large ones), hashed cold,
// then again with a warm stat cache (no content read), then after one edit. Run after `npm run build`.
// Usage: node bench/context-checksum.mjs [smallFiles=20000] [largeMiB=4x64]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { checksumContextSelection, xxhashFile } from '../dist/cache/context-checksum.js';
import { StatCache } from '../dist/cache/stat-cache.js';

const smallFiles = Number(process.argv[2] ?? 20000);
const [largeCount, largeMiB] = (process.argv[3] ?? '4x64').split('x').map(Number);

const base = mkdtempSync(join(tmpdir(), 'kiln-bench-ctx-'));
const ctx = join(base, 'ctx');
try {
  for (let i = 0; i < smallFiles; i += 1) {
    const dir = join(ctx, 'src', `d${i % 200}`);
    if (i < 200) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.js`), `export const v${i} = ${i};\n`.repeat(20));
  }
  mkdirSync(join(ctx, 'assets'), { recursive: true });
  const block = Buffer.alloc(1 << 20, 7);
  for (let i = 0; i < largeCount; i += 1) {
    const parts = Array.from({ length: largeMiB }, (_, k) => (k === 0 ? Buffer.from(`blob ${i}`) : block));
    writeFileSync(join(ctx, 'assets', `blob${i}.bin`), Buffer.concat(parts));
  }
  mkdirSync(join(ctx, 'node_modules', 'x'), { recursive: true });
  writeFileSync(join(ctx, 'node_modules', 'x', 'ignored.js'), 'ignored');

  let reads = 0;
  const hashFile = (p) => ((reads += 1), xxhashFile(p));
  const opts = { root: ctx, src: ['.'], exclude: ['node_modules', '**/*.log'], followTopSymlinks: true, hashFile };
  const cacheFile = join(base, 'stat-cache.bin');

  const run = async (label, cache) => {
    reads = 0;
    const t0 = performance.now();
    const digest = await checksumContextSelection({ ...opts, statCache: cache });
    const ms = performance.now() - t0;
    if (cache) await cache.save();
    console.log(`${label.padEnd(28)} ${ms.toFixed(0).padStart(7)} ms  ${String(reads).padStart(6)} files read  ${digest.slice(0, 12)}`);
    return digest;
  };

  const totalMiB = largeCount * largeMiB + (smallFiles * 560) / (1 << 20);
  console.log(`context: ${smallFiles} small files + ${largeCount} x ${largeMiB} MiB (${totalMiB.toFixed(0)} MiB)`);
  await run('cold, no stat cache', undefined);
  await run('cold, filling stat cache', await StatCache.load(cacheFile, { racyMarginMs: 0 }));
  await run('warm stat cache', await StatCache.load(cacheFile, { racyMarginMs: 0 }));
  writeFileSync(join(ctx, 'src', 'd0', 'f0.js'), 'changed');
  await run('warm, one file edited', await StatCache.load(cacheFile, { racyMarginMs: 0 }));
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  rmSync(base, { recursive: true, force: true });
}
