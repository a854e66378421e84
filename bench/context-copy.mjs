#!/usr/bin/env node
// COPY timing: `COPY . /app/` of a generated context (many small files plus a few large ones) into an empty
// root, through applyFileActions (the code the file-op namespace runs). Run as root after `npm run build`.
// Usage: node bench/context-copy.mjs [smallFiles=20000] [largeMiB=4x64]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { applyFileActions } from '../dist/exec/file-actions.js';

const smallFiles = Number(process.argv[2] ?? 20000);
const [largeCount, largeMiB] = (process.argv[3] ?? '4x64').split('x').map(Number);

const base = mkdtempSync(join(tmpdir(), 'kiln-bench-copy-'));
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
    writeFileSync(join(ctx, 'assets', `blob${i}.bin`), Buffer.concat(Array.from({ length: largeMiB }, () => block)));
  }
  const action = { kind: 'copy', source: 1, src: ['.'], dest: '/app/', exclude: [], parents: false, link: false, unpackArchives: false };
  for (const label of ['first copy', 'second copy (new root)']) {
    const rootfs = mkdtempSync(join(base, 'rootfs-'));
    const t0 = performance.now();
    await applyFileActions(rootfs, [undefined, { root: ctx, exclude: ['**/*.log'], resetOwnership: true }], [action]);
    console.log(`${label.padEnd(24)} ${(performance.now() - t0).toFixed(0).padStart(7)} ms for ${smallFiles + largeCount} files`);
  }
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  rmSync(base, { recursive: true, force: true });
}
