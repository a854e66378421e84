// Start-up garbage collection of what a crashed builder left in the exec state dir and the kiln cgroups.
import { rm, rmdir } from 'node:fs/promises';
import { readdirOrEmpty } from '../disk/readdir-or-empty.js';
import path from 'node:path';
import { kilnCgroupParent } from './cgroup.js';
import { STEPS_SUBDIR } from './step-dir.js';

/** Step dirs and cgroups are named `<pid>-<random>`; an entry is stale when that pid is gone. */
function ownerIsGone(name: string): boolean {
  const pid = Number(name.split('-')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Removes step dirs, half-built base layers and step cgroups whose owning builder process is dead.
 * Nothing is mounted on the host for a step (its mounts die with its mount namespace), so removal is plain rm.
 */
export async function cleanupStaleExecState(stateDir: string): Promise<void> {
  const stepsDir = path.join(stateDir, STEPS_SUBDIR);
  for (const name of await readdirOrEmpty(stepsDir)) {
    if (ownerIsGone(name)) await rm(path.join(stepsDir, name), { recursive: true, force: true });
  }
  for (const name of await readdirOrEmpty(stateDir)) {
    const m = /^base-v\d+\.tmp-(\d+)-/.exec(name);
    if (m !== null && ownerIsGone(m[1] as string)) await rm(path.join(stateDir, name), { recursive: true, force: true });
  }
  for (const controller of ['devices', 'memory', 'cpu', 'pids']) {
    const parent = kilnCgroupParent(controller);
    if (parent === undefined) continue;
    for (const name of await readdirOrEmpty(parent)) {
      // Only kiln's per-step cgroups (named "<pid>-…"); the controller's own files live beside them.
      if (!/^\d+-/.test(name) || !ownerIsGone(name)) continue;
      try {
        await rmdir(path.join(parent, name));
      } catch (err) {
        // A cgroup still holding processes (a container outliving its builder) is left for the next start-up; one
        // already gone was removed by another kiln starting at the same time.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EBUSY' && code !== 'ENOENT') throw err;
      }
    }
  }
}
