// The build records the native addon koffi chose, so that every init can skip koffi's loader (see src/sys/libc.ts).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

describe('the recorded koffi addon', () => {
  it('names the addon koffi itself loads, at koffi’s version', () => {
    const record = JSON.parse(readFileSync(path.join(repo, 'dist', 'koffi-addon.json'), 'utf8')) as { addon: string; version: string };
    const addonPath = path.resolve(repo, 'dist', record.addon);
    expect(existsSync(addonPath)).toBe(true);
    const koffi = require('koffi') as { version: string };
    expect(record.version).toBe(koffi.version);
    expect(Object.keys(require.cache)).toContain(addonPath);
    const addon = require(addonPath) as { version: string; load: (name: string) => { func: (proto: string) => () => number } };
    expect(addon.version).toBe(record.version);
    expect(addon.load('libc.so.6').func('int getpid()')()).toBe(process.pid);
  });
});
