// Sizes and durations on the prune command line, and what `kiln prune` / `kiln du` print.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatBytes, parseByteSize } from '../../src/bin/byte-size.js';
import { duCommand, pruneCommand } from '../../src/bin/cmd-prune.js';
import { parseDuration } from '../../src/bin/duration.js';
import { openKilnRoot } from '../../src/engine/kiln-root.js';
import { UsageError } from '../../src/errors.js';
import { chainOf, recordOf, storeTestLayer } from '../helpers/layer-blobs.js';

describe('byte sizes', () => {
  const cases: [string, number][] = [
    ['0', 0],
    ['1234', 1234],
    ['512B', 512],
    ['512MB', 512e6],
    ['1.5GB', 1.5e9],
    ['10kB', 10_000],
    ['1GiB', 2 ** 30],
    ['2MiB', 2 * 2 ** 20],
    ['1g', 2 ** 30],
  ];
  for (const [text, bytes] of cases) it(`reads ${text} as ${bytes} bytes`, () => expect(parseByteSize(text, '--keep-storage')).toBe(bytes));

  for (const text of ['', 'lots', '-1GB', '1XB', '1.2.3MB']) {
    it(`refuses "${text}" naming the flag`, () => {
      expect(() => parseByteSize(text, '--keep-storage')).toThrow(UsageError);
      expect(() => parseByteSize(text, '--keep-storage')).toThrow(/--keep-storage/);
    });
  }

  const printed: [number, string][] = [
    [0, '0B'],
    [512, '512B'],
    [8192, '8.192kB'],
    [12_300_000, '12.3MB'],
    [1_234_567_890, '1.235GB'],
  ];
  for (const [bytes, text] of printed) it(`prints ${bytes} bytes as ${text}`, () => expect(formatBytes(bytes)).toBe(text));
});

describe('durations', () => {
  const cases: [string, number][] = [
    ['24h', 24 * 3600e3],
    ['30m', 30 * 60e3],
    ['1h30m', 90 * 60e3],
    ['1.5h', 90 * 60e3],
    ['90s', 90e3],
    ['500ms', 500],
    ['0', 0],
  ];
  for (const [text, ms] of cases) it(`reads ${text} as ${ms}ms`, () => expect(parseDuration(text, '--filter until')).toBe(ms));

  for (const text of ['', '24', 'h', '1d', '1h 30m', 'soon']) {
    it(`refuses "${text}" naming the flag`, () => {
      expect(() => parseDuration(text, '--filter until')).toThrow(UsageError);
      expect(() => parseDuration(text, '--filter until')).toThrow(/--filter until/);
    });
  }
});

describe('kiln prune and kiln du commands', () => {
  let dir: string | undefined;
  const savedRoot = process.env.KILN_ROOT;

  afterEach(async () => {
    vi.restoreAllMocks();
    if (savedRoot === undefined) delete process.env.KILN_ROOT;
    else process.env.KILN_ROOT = savedRoot;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function captured(run: () => Promise<number>): Promise<{ code: number; out: string }> {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += chunk.toString();
      return true;
    });
    const code = await run();
    vi.restoreAllMocks();
    return { code, out };
  }

  it('du prints each kind with totals, and prune -f prints what it reclaimed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-test-prune-cmd-'));
    process.env.KILN_ROOT = dir;
    const root = await openKilnRoot(dir);
    const layer = await storeTestLayer(root.content, { a: 'x'.repeat(100) });
    await root.cache.put(recordOf(chainOf([layer])));
    const signal = new AbortController().signal;

    const du = await captured(() => duCommand([], signal));
    expect(du.code).toBe(0);
    expect(du.out).toMatch(/^TYPE\s+COUNT\s+SIZE\s+RECLAIMABLE$/m);
    expect(du.out).toMatch(/^Blobs \(cache only\)\s+1\s+\d+B\s+\d+B$/m);
    expect(du.out).toMatch(/^Cache records\s+1\s/m);
    expect(du.out).toMatch(/^Total:\s+\d+B$/m);

    const prune = await captured(() => pruneCommand(['-f', '--keep-storage', '0', '--filter', 'until=1s'], signal));
    expect(prune.code).toBe(0);
    expect(prune.out).toMatch(/^Deleted 0 cache records/m);
    const pruneAll = await captured(() => pruneCommand(['--all', '--force'], signal));
    expect(pruneAll.out).toMatch(/^Deleted 1 cache records, 1 blobs, 0 snapshots, 0 cache mounts$/m);
    expect(pruneAll.out).toMatch(/^Total: \d+B$/m);
    expect(await root.content.list()).toEqual([]);
  });

  it('refuses unknown filters and bad sizes with a usage error naming the flag', async () => {
    const signal = new AbortController().signal;
    await expect(pruneCommand(['-f', '--filter', 'type=regular'], signal)).rejects.toThrow(/--filter "type=regular": only until=DURATION/);
    await expect(pruneCommand(['-f', '--keep-storage', 'big'], signal)).rejects.toThrow(/--keep-storage "big"/);
    await expect(pruneCommand(['-f', '--filter', 'until=tomorrow'], signal)).rejects.toThrow(/--filter until "tomorrow"/);
  });
});
