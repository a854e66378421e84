// Runs one of kiln's CommonJS bundles (dist/kiln.cjs, dist/exec/init.cjs) through vm.Script with a V8 code cache:
// compiling a bundle was a fifth of a no-op rebuild and a tenth of each step's init. The bundle's SHA-256 (written
// beside it by scripts/bundle.mjs) names the cache, so a rebuilt bundle never meets a stale one; V8 itself rejects a
// cache from another Node version. A cache is written once, after a run compiled what it needed (temp, fsync, rename).
'use strict';
const { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');

/** Emptied by every `npm run build` (scripts/bundle.mjs). */
const CACHE_DIR = path.join(__dirname, '..', 'dist', 'v8-cache');

function readOrUndefined(file, encoding) {
  try {
    return readFileSync(file, encoding);
  } catch {
    return undefined;
  }
}

/**
 * Runs `bundle` (a missing one is reported and exits 1) with the cache named `cacheName`. Returns the function that
 * writes the cache when there was none (or V8 rejected it); also at globalThis.kilnSaveCodeCache for the bundle.
 */
exports.runBundle = function runBundle(bundle, cacheName) {
  const source = readOrUndefined(bundle, 'utf8');
  if (source === undefined) {
    process.stderr.write(`kiln: ${bundle} is missing; build kiln first (npm run build)\n`);
    process.exit(1);
  }
  const hash = (readOrUndefined(`${bundle}.sha256`, 'utf8') ?? '').trim();
  const name = path.basename(bundle, '.cjs');
  const cachePath = /^[0-9a-f]{64}$/.test(hash) ? path.join(CACHE_DIR, `${name}-${hash.slice(0, 16)}-${cacheName}.bin`) : undefined;
  const cachedData = cachePath === undefined ? undefined : readOrUndefined(cachePath);
  const script = new vm.Script(Module.wrap(source), { filename: bundle, ...(cachedData ? { cachedData } : {}) });
  let pending = cachePath !== undefined && (cachedData === undefined || script.cachedDataRejected);
  const saveCache = () => {
    if (!pending) return;
    pending = false;
    const temp = `${cachePath}.${process.pid}.tmp`;
    try {
      mkdirSync(path.dirname(cachePath), { recursive: true });
      const fd = openSync(temp, 'w', 0o644);
      try {
        writeSync(fd, script.createCachedData());
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, cachePath);
    } catch {
      // Only an optimisation: a read-only install (or a full disk) runs without it.
      try {
        rmSync(temp, { force: true });
      } catch {
        // Nothing was written there either.
      }
    }
  };
  globalThis.kilnSaveCodeCache = saveCache;
  // The bundles' import.meta.url, computed when first asked for: a cached build never asks.
  Object.defineProperty(globalThis, 'kilnBundleUrl', { configurable: true, get: () => pathToFileURL(bundle).href });
  const module_ = { exports: {} };
  script.runInThisContext()(module_.exports, Module.createRequire(bundle), module_, bundle, path.dirname(bundle));
  return saveCache;
};
