// Bundles the CLI and the container init into one file each: loading ~130 small ES modules was most of a
// no-op rebuild's time. koffi stays external (a native addon).
// Both are CommonJS so that bin/code-cache.cjs can compile them through vm.Script with a V8 code cache (ES modules
// can't take one on Node 20); a bundle's SHA-256 names its cache files, so a rebuilt bundle never meets a stale one.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';

rmSync('dist/v8-cache', { recursive: true, force: true });
rmSync('dist/kiln.mjs', { force: true });
rmSync('dist/exec/init.bundle.mjs', { force: true });

for (const [entry, outfile] of [
  ['src/bin/main.ts', 'dist/kiln.cjs'],
  ['src/exec/init.ts', 'dist/exec/init.cjs'],
]) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['koffi'],
    logLevel: 'warning',
    // bin/code-cache.cjs defines it before running the bundle: CommonJS has no import.meta.
    define: { 'import.meta.url': 'globalThis.kilnBundleUrl' },
    // A lazy import() of a node: builtin becomes a require(): vm.Script has no module loader for import().
    supported: { 'dynamic-import': false },
  });
  writeFileSync(`${outfile}.sha256`, `${createHash('sha256').update(readFileSync(outfile)).digest('hex')}\n`);
}

// koffi's own loader costs ~4 ms per process (package resolution, reading node's ELF header to choose between its
// glibc and musl builds), and every RUN step starts an init that loads koffi. Record the addon koffi chooses on this
// machine, with its version: src/sys/libc.ts loads that file directly and falls back to koffi's loader when the
// record is missing or stale (node_modules reinstalled without a rebuild).
{
  const require = createRequire(import.meta.url);
  const before = new Set(Object.keys(require.cache));
  const { version } = require('koffi');
  const addons = Object.keys(require.cache).filter((file) => !before.has(file) && file.endsWith('.node'));
  rmSync('dist/koffi-addon.json', { force: true });
  if (addons.length === 1 && typeof version === 'string') {
    writeFileSync('dist/koffi-addon.json', `${JSON.stringify({ addon: path.relative('dist', addons[0]), version })}\n`);
  } else {
    // Only an optimisation: without the record, inits go through koffi's own loader.
    console.warn(`bundle: koffi loaded ${addons.length} native addons (expected 1); inits will use koffi's loader`);
  }
}
