// Bundles the CLI and the container init into one file each: loading ~130 small ES modules was most of a
// no-op rebuild's time. koffi stays external (a native addon).
// The CLI is CommonJS so that bin/kiln can compile it through vm.Script with a V8 code cache (ES modules can't
// take one on Node 20); the bundle's SHA-256 names the cache files, so a rebuilt bundle never meets a stale cache.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', target: 'node20', external: ['koffi'], logLevel: 'warning' };

await build({
  ...common,
  format: 'cjs',
  entryPoints: ['src/bin/main.ts'],
  outfile: 'dist/kiln.cjs',
  // bin/kiln sets this before running the bundle: CommonJS has no import.meta.
  define: { 'import.meta.url': 'globalThis.kilnBundleUrl' },
});
const bundleHash = createHash('sha256').update(readFileSync('dist/kiln.cjs')).digest('hex');
writeFileSync('dist/kiln.cjs.sha256', `${bundleHash}\n`);
rmSync('dist/v8-cache', { recursive: true, force: true });
rmSync('dist/kiln.mjs', { force: true });

await build({
  ...common,
  format: 'esm',
  entryPoints: ['src/exec/init.ts'],
  outfile: 'dist/exec/init.bundle.mjs',
  banner: { js: "import { createRequire as kilnCreateRequire } from 'node:module'; const require = kilnCreateRequire(import.meta.url);" },
});
