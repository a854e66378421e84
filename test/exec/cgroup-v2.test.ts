// The cgroup2 layout of kiln's step cgroups on the real kernel, with a controller this host's cgroup2 offers (the
// limits themselves are tested on cgroup2 by test/host-global, which moves pids and cpu off v1).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeCgroupDirs } from '../../src/exec/cgroup.js';
import { parseCgroupMounts, parseControllerList } from '../../src/exec/cgroup-mounts.js';
import { ensureV2Parent } from '../../src/exec/cgroup-v2.js';

function words(file: string): string[] {
  return [...parseControllerList(readFileSync(file, 'utf8'))];
}

describe('the cgroup2 parent of step cgroups', () => {
  it('enables only the requested controller at the top and in the parent, and a step below it takes a process and goes when empty', async () => {
    const v2 = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8')).v2;
    if (v2 === undefined) throw new Error('this host mounts no cgroup2 hierarchy (/proc/self/mountinfo), so the cgroup2 layout cannot be tested');
    const offered = words(path.join(v2.mountPoint, 'cgroup.controllers'));
    // hugetlb where offered: nothing on this host or in kiln limits it, so enabling it for a moment disturbs no one.
    const controller = offered.includes('hugetlb') ? 'hugetlb' : offered[0];
    if (controller === undefined) throw new Error(`the cgroup2 hierarchy at ${v2.mountPoint} offers no controller (empty cgroup.controllers)`);
    const topBefore = words(path.join(v2.mountPoint, 'cgroup.subtree_control'));
    // Its own parent name: kiln runs elsewhere in the suite may use <mount>/kiln on a cgroup2 host.
    const name = `kiln-test-${process.pid}`;
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const parent = ensureV2Parent(v2.mountPoint, name, [controller]);
      expect(parent).toBe(path.join(v2.mountPoint, name));
      expect(words(path.join(v2.mountPoint, 'cgroup.subtree_control'))).toContain(controller);
      expect(words(path.join(parent, 'cgroup.subtree_control'))).toEqual([controller]);
      // Asking again for what is enabled already writes nothing and fails nothing.
      expect(ensureV2Parent(v2.mountPoint, name, [controller])).toBe(parent);

      const step = path.join(parent, '1-abc');
      await mkdir(step);
      expect(readdirSync(step).some((f) => f.startsWith(`${controller}.`))).toBe(true);
      // The rule the layout follows: a cgroup that hands controllers to its children takes no process itself.
      expect(() => writeFileSync(path.join(parent, 'cgroup.procs'), String(sleeper.pid))).toThrow(/EBUSY/);
      writeFileSync(path.join(step, 'cgroup.procs'), String(sleeper.pid));
      expect(readFileSync(`/proc/${sleeper.pid}/cgroup`, 'utf8')).toContain(`0::/${name}/1-abc\n`);

      sleeper.kill('SIGKILL');
      await removeCgroupDirs([step]);
      expect(existsSync(step)).toBe(false);
    } finally {
      sleeper.kill('SIGKILL');
      const parent = path.join(v2.mountPoint, name);
      if (existsSync(path.join(parent, '1-abc'))) await removeCgroupDirs([path.join(parent, '1-abc')]);
      if (existsSync(parent)) rmdirSync(parent);
      if (!topBefore.includes(controller)) writeFileSync(path.join(v2.mountPoint, 'cgroup.subtree_control'), `-${controller}`);
    }
    expect(words(path.join(v2.mountPoint, 'cgroup.subtree_control'))).toEqual(topBefore);
  });
});
