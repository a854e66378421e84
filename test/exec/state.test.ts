// Start-up garbage collection of a crashed builder's exec state, and the read-only root option.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupStaleExecState } from '../../src/exec/index.js';
import { makeExecFixture, runIn } from './exec-fixture.js';
import type { ExecFixture } from './exec-fixture.js';

let fx: ExecFixture;

beforeAll(async () => {
  fx = await makeExecFixture();
});

afterAll(async () => {
  await fx.dispose();
});

/** A pid that is certainly not running: a child that already exited and was reaped. */
function deadPid(): number {
  const r = spawnSync('/bin/true');
  return r.pid as number;
}

describe('exec state', () => {
  it("start-up cleanup removes a dead builder's step dirs and cgroups and keeps live ones", async () => {
    await runIn(fx, ['true']);
    const dead = deadPid();
    const steps = join(fx.stateDir, 'steps');
    await mkdir(join(steps, `${dead}-abc`, 'merged'), { recursive: true });
    await writeFile(join(steps, `${dead}-abc`, 'spec.json'), '{}');
    await mkdir(join(steps, `${process.pid}-live`), { recursive: true });
    const deadCgroup = `/sys/fs/cgroup/pids/kiln/${dead}-abc`;
    await mkdir(deadCgroup, { recursive: true });
    await cleanupStaleExecState(fx.stateDir);
    expect(await readdir(steps)).toEqual([`${process.pid}-live`]);
    expect(existsSync(deadCgroup)).toBe(false);
  });

  it('a read-only root refuses writes but still has its mounts', async () => {
    const layer = await fx.layer();
    const spec = {
      rootfs: { kind: 'overlay' as const, lowerDirs: [fx.rootfs], ...layer },
      process: { args: ['sh', '-c', 'touch /x 2>/dev/null || echo ro; echo ok > /dev/shm/y && cat /dev/shm/y; cat /etc/hostname'], env: ['PATH=/bin'], cwd: '/', user: '' },
      hostname: 'ro-box',
      network: 'none' as const,
      mounts: [],
      readonlyRootfs: true,
    };
    const { PassThrough } = await import('node:stream');
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    expect(await fx.executor.run(spec, { stdout: out, stderr: out }, new AbortController().signal)).toEqual({ code: 0 });
    expect(text).toBe('ro\nok\nro-box\n');
    expect(await readdir(layer.upperDir)).toEqual([]);
  });

  it('file ops can be cancelled', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    const layer = await fx.layer();
    await expect(
      fx.executor.runFileOps({ rootfs: { kind: 'overlay', lowerDirs: [fx.rootfs], ...layer }, sources: [undefined], actions: [] }, ac.signal),
    ).rejects.toThrow('stop');
  });
});
