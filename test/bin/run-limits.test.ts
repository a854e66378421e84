// kiln run's limit flags as docker reads them, including what happens on a kernel without swap accounting.
import { describe, expect, it } from 'vitest';
import { resourceLimits } from '../../src/bin/run-options.js';
import { UsageError } from '../../src/errors.js';

const MiB = 1024 * 1024;

describe('resourceLimits', () => {
  const cases: { name: string; flags: Parameters<typeof resourceLimits>[0]; swap: boolean; limits: unknown; warnings: number }[] = [
    { name: 'no flags, no limits', flags: {}, swap: true, limits: undefined, warnings: 0 },
    { name: '--memory alone doubles into memory+swap', flags: { memory: '100m' }, swap: true, limits: { memoryBytes: 100 * MiB, memorySwapBytes: 200 * MiB }, warnings: 0 },
    { name: '--memory-swap is taken as given', flags: { memory: '100m', memorySwap: '150m' }, swap: true, limits: { memoryBytes: 100 * MiB, memorySwapBytes: 150 * MiB }, warnings: 0 },
    { name: '--memory-swap -1 is unlimited', flags: { memory: '100m', memorySwap: '-1' }, swap: true, limits: { memoryBytes: 100 * MiB, memorySwapBytes: -1 }, warnings: 0 },
    { name: 'without swap accounting the swap limit is dropped with a warning', flags: { memory: '100m' }, swap: false, limits: { memoryBytes: 100 * MiB }, warnings: 1 },
    { name: 'an explicit --memory-swap is dropped too, with a warning', flags: { memory: '100m', memorySwap: '300m' }, swap: false, limits: { memoryBytes: 100 * MiB }, warnings: 1 },
    { name: 'cpus and pids need no swap accounting', flags: { cpus: '1.5', pids: '10' }, swap: false, limits: { cpus: 1.5, pids: 10 }, warnings: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { limits, warnings } = resourceLimits(c.flags, c.swap);
      expect(limits).toEqual(c.limits);
      expect(warnings).toHaveLength(c.warnings);
      if (c.warnings > 0) expect(warnings[0]).toContain('does not support swap limit');
    });
  }

  it('refuses --memory-swap without --memory and below --memory', () => {
    expect(() => resourceLimits({ memorySwap: '1g' }, true)).toThrow(UsageError);
    expect(() => resourceLimits({ memory: '1g', memorySwap: '512m' }, true)).toThrow(/at least the memory limit/);
  });
});
