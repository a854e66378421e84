// Cache keys are pure functions of the op and its labelled inputs.
import { describe, expect, it } from 'vitest';
import { cacheKeyOf } from '../../src/cache/cache-key.js';
import type { Op } from '../../src/llb/types.js';

const run: Op = { kind: 'exec', args: ['/bin/sh', '-c', 'make'], env: ['PATH=/bin'], cwd: '/', user: '', network: 'default', security: 'sandbox', mounts: [] };

describe('cacheKeyOf', () => {
  it('is stable for equal ops whatever the key order of the objects', () => {
    const reordered = JSON.parse(JSON.stringify({ mounts: [], security: 'sandbox', network: 'default', user: '', cwd: '/', env: ['PATH=/bin'], args: ['/bin/sh', '-c', 'make'], kind: 'exec' })) as Op;
    expect(cacheKeyOf(run, { input0: 'sha256:a' })).toBe(cacheKeyOf(reordered, { input0: 'sha256:a' }));
  });

  it('changes with the command, the env, the user, the cwd, the network and the parent', () => {
    const base = cacheKeyOf(run, { input0: 'sha256:a' });
    const variants: Op[] = [
      { ...run, args: ['/bin/sh', '-c', 'make all'] },
      { ...run, env: ['PATH=/bin', 'X=1'] },
      { ...run, user: 'app' },
      { ...run, cwd: '/src' },
      { ...run, network: 'none' },
    ];
    const keys = new Set([base, ...variants.map((op) => cacheKeyOf(op, { input0: 'sha256:a' })), cacheKeyOf(run, { input0: 'sha256:b' })]);
    expect(keys.size).toBe(7);
  });
});
