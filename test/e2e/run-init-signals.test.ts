// kiln run --init: a SIGTERM that arrives while the container is still starting reaches the command (it used to be lost).
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runKiln, useKilnRoot } from '../helpers/kiln.js';

const kiln = useKilnRoot();

/** True once kiln has spawned the container (its signal listeners are installed by then; the init is still starting). */
async function startingContainer(pid: number): Promise<boolean> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return children.trim() !== '';
}

describe('kiln run --init at start-up', () => {
  it('a SIGTERM sent as soon as kiln listens for it ends the command with 143, not a SIGKILL after --stop-timeout', async () => {
    for (let round = 0; round < 4; round++) {
      const startedAt = Date.now();
      const result = await runKiln(['run', '--init', '--stop-timeout', '30', 'busybox', 'sleep', '60'], {
        root: kiln.root,
        onSpawn: (child) => {
          void (async () => {
            // Before kiln has its listener, SIGTERM would simply kill kiln (as it kills docker's CLI).
            while (child.exitCode === null && !(await startingContainer(child.pid!))) await sleep(1);
            child.kill('SIGTERM');
          })();
        },
      });
      expect({ round, code: result.code, stderr: result.stderr }).toEqual({ round, code: 143, stderr: '' });
      expect(Date.now() - startedAt).toBeLessThan(20_000);
    }
  }, 120_000);
});
