import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { parallelGzip } from '../../src/exporter/parallel-gzip.js';

async function gzipOf(data: Buffer, opts: { level: number; blockSize?: number; concurrency?: number }, chunk = 7000): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) pieces.push(data.subarray(i, i + chunk));
  const out: Buffer[] = [];
  for await (const part of parallelGzip(Readable.from(pieces), opts)) out.push(part);
  return Buffer.concat(out);
}

const text = Buffer.from('kiln layers are gzip streams; '.repeat(40_000));
const mixed = Buffer.concat([randomBytes(300_000), text, randomBytes(1)]);

describe('parallelGzip', () => {
  const sizes = [0, 1, 32 * 1024 - 1, 128 * 1024, 128 * 1024 + 1, mixed.length];
  for (const size of sizes) {
    test(`${size} bytes compress to a gzip stream that gunzip and gzip -t accept`, async () => {
      const input = mixed.subarray(0, size);
      const gz = await gzipOf(input, { level: 6 });
      expect(gunzipSync(gz).equals(input)).toBe(true);
      execFileSync('gzip', ['-t'], { input: gz });
    });
  }

  test('the bytes depend on input, level and block size only, not on concurrency or input chunking', async () => {
    const one = await gzipOf(mixed, { level: 6, concurrency: 1 }, 1000);
    const many = await gzipOf(mixed, { level: 6, concurrency: 8 }, 65536);
    expect(many.equals(one)).toBe(true);
    const fast = await gzipOf(mixed, { level: 1 });
    expect(fast.equals(one)).toBe(false);
    expect(gunzipSync(fast).equals(mixed)).toBe(true);
  });

  test('priming each block with the previous one compresses text within 2% of a single zlib stream', async () => {
    const words = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu'.split(' ');
    let seed = 1;
    const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const lines = Array.from({ length: 20_000 }, () => Array.from({ length: 8 }, () => words[Math.floor(next() * words.length)]).join(' '));
    const prose = Buffer.from(lines.join('\n'));
    const gz = await gzipOf(prose, { level: 6, blockSize: 32 * 1024 });
    // Blocks compressed without the previous 32 KiB as dictionary come out about 5% larger on this text.
    expect(gz.length).toBeLessThan(gzipSync(prose, { level: 6 }).length * 1.02);
  });
});
