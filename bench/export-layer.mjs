#!/usr/bin/env node
// Layer export throughput: a generated ~200 MB upper dir (large files + many small ones, half random / half text)
// → tar → gzip (one zlib stream, and parallel blocks) → content store, at several zlib levels; then the blob unpacked.
// Prints MB/s of uncompressed tar, compressed size and peak RSS. Run after `npx tsc -p tsconfig.json`.
// Usage: node bench/export-layer.mjs [totalMiB=200] [levels=1,6]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FileContentStore } from '../dist/content/index.js';
import { packTar, storeLayer, walkTree } from '../dist/exporter/index.js';
import { applyLayer } from '../dist/snapshot/index.js';

const totalMiB = Number(process.argv[2] ?? 200);
const levels = (process.argv[3] ?? '1,6').split(',').map(Number);
const MiB = 1024 * 1024;

const words = 'the quick brown fox jumps over lazy dogs while kiln builds layers from overlay upper dirs'.split(' ');
function textBytes(size) {
  const parts = [];
  let length = 0;
  while (length < size) {
    const line = `${Array.from({ length: 12 }, () => words[Math.floor(Math.random() * words.length)]).join(' ')} ${Math.random()}\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

function makeUpper(dir) {
  // 60% in 6 large files, 40% in 10 KiB files spread over 40 dirs; alternating random and text content.
  const largeBytes = Math.floor(totalMiB * 0.6 * MiB);
  for (let i = 0; i < 6; i++) {
    const size = Math.floor(largeBytes / 6);
    writeFileSync(join(dir, `large-${i}.bin`), i % 2 === 0 ? randomBytes(size) : textBytes(size));
  }
  const smallCount = Math.floor((totalMiB * 0.4 * MiB) / (10 * 1024));
  for (let i = 0; i < smallCount; i++) {
    const sub = join(dir, `d${i % 40}`);
    if (i < 40) mkdirSync(sub);
    writeFileSync(join(sub, `f${i}`), i % 2 === 0 ? randomBytes(10 * 1024) : textBytes(10 * 1024));
  }
  return smallCount + 6;
}

function rssSampler() {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  return () => {
    clearInterval(timer);
    return Math.max(peak, process.memoryUsage().rss) / MiB;
  };
}

/** Wall seconds and this process's CPU seconds (user+sys, all threads incl. zlib's pool) for `fn`. */
async function measure(fn) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await fn();
  const used = process.cpuUsage(cpu);
  return { result, seconds: (performance.now() - started) / 1000, cpu: (used.user + used.system) / 1e6 };
}

const base = mkdtempSync(join(tmpdir(), 'kiln-bench-export-'));
try {
  const upper = join(base, 'upper');
  mkdirSync(upper);
  const files = makeUpper(upper);
  console.log(`upper dir: ${totalMiB} MiB in ${files} files; node ${process.version}; baseline RSS ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB`);

  {
    // The walk + tar alone (no compression, no store): the exporter's own overhead.
    const stop = rssSampler();
    const { result: bytes, seconds, cpu } = await measure(async () => {
      let n = 0;
      for await (const chunk of packTar(walkTree(upper, 'overlay-upper'))) n += chunk.length;
      return n;
    });
    console.log(`tar only      : ${(bytes / MiB).toFixed(0)} MiB in ${seconds.toFixed(2)} s (${cpu.toFixed(2)} CPU s) = ${(bytes / MiB / seconds).toFixed(0)} MiB/s, peak RSS ${stop().toFixed(0)} MiB`);
  }

  let lastBlob;
  let store;
  for (const level of levels) {
    for (const parallel of [false, true]) {
      store = new FileContentStore(join(base, `content-${level}-${parallel}`));
      await store.init();
      const stop = rssSampler();
      let bytes = 0;
      const { result: layer, seconds, cpu } = await measure(() =>
        storeLayer(packTar(walkTree(upper, 'overlay-upper')), store, { compressionLevel: level, parallel, onBytes: (n) => (bytes += n) }),
      );
      console.log(
        `gzip level ${level} ${parallel ? 'parallel' : 'stream  '}: ${(bytes / MiB).toFixed(0)} MiB → ${(layer.blob.size / MiB).toFixed(1)} MiB in ${seconds.toFixed(2)} s (${cpu.toFixed(2)} CPU s) = ${(bytes / MiB / seconds).toFixed(0)} MiB/s, peak RSS ${stop().toFixed(0)} MiB`,
      );
      lastBlob = layer;
    }
    // Reference on the same data: GNU tar piped into gzip at the same level.
    const ref = await measure(() => execFileSync('sh', ['-c', `tar -C ${upper} -cf - . | gzip -${level} > /dev/null`]));
    console.log(`  reference tar | gzip -${level}: ${ref.seconds.toFixed(2)} s`);
  }

  {
    const stop = rssSampler();
    const { seconds, cpu } = await measure(() => applyLayer(store.read(lastBlob.blob.digest), join(base, 'applied')));
    console.log(`applyLayer    : ${(totalMiB / seconds).toFixed(0)} MiB/s (${seconds.toFixed(2)} s, ${cpu.toFixed(2)} CPU s), peak RSS ${stop().toFixed(0)} MiB`);
    const ref = await measure(() => execFileSync('sh', ['-c', `mkdir ${base}/ref && gzip -dc ${store.pathOf(lastBlob.blob.digest)} | tar -C ${base}/ref -xf -`]));
    console.log(`  reference gzip -dc | tar -x: ${ref.seconds.toFixed(2)} s = ${(totalMiB / ref.seconds).toFixed(0)} MiB/s`);
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
