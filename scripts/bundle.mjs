// Bundles the CLI and the container init into one file each: loading ~130 small ES modules was most of a
// no-op rebuild's time. koffi stays external (a native addon); CommonJS dependencies get a real `require`.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['koffi'],
  logLevel: 'warning',
  banner: { js: "import { createRequire as kilnCreateRequire } from 'node:module'; const require = kilnCreateRequire(import.meta.url);" },
};

await build({ ...common, entryPoints: ['src/bin/main.ts'], outfile: 'dist/kiln.mjs' });
await build({ ...common, entryPoints: ['src/exec/init.ts'], outfile: 'dist/exec/init.bundle.mjs' });
