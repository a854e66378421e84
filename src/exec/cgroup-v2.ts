// The cgroup2 parent of kiln's step cgroups, <cgroup2 mount>/kiln, with only the controllers kiln limits enabled.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CgroupUnavailableError } from './errors.js';
import { parseControllerList } from './cgroup-mounts.js';

/** Controllers already seen enabled in a directory's cgroup.subtree_control, so each step does not re-read it. */
const enabledIn = new Map<string, Set<string>>();

/**
 * Enables `controllers` for the children of `dir`. cgroup2's no-internal-processes rule lets only the top of the
 * hierarchy hand controllers down while holding processes, which is why kiln's cgroups hang off the top and the
 * `kiln` directory itself never holds a process.
 */
function enableForChildren(dir: string, controllers: readonly string[]): void {
  const file = path.join(dir, 'cgroup.subtree_control');
  let known = enabledIn.get(dir);
  if (known === undefined || controllers.some((c) => !known?.has(c))) {
    known = new Set(parseControllerList(readFileSync(file, 'utf8')));
    enabledIn.set(dir, known);
  }
  const missing = controllers.filter((c) => !known.has(c));
  if (missing.length === 0) return;
  const request = missing.map((c) => `+${c}`).join(' ');
  try {
    writeFileSync(file, request);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    const hint =
      code === 'EBUSY'
        ? ' (on cgroup2 a cgroup holding processes cannot pass controllers to its children: is this a container whose cgroup namespace top has processes in it?)'
        : '';
    throw new CgroupUnavailableError(`cannot enable the cgroup2 ${missing.join(', ')} controller for kiln: writing "${request}" to ${file} failed with ${code}${hint}`);
  }
  for (const c of missing) known.add(c);
}

/** Makes `<mountPoint>/kiln` with `controllers` available to its children (the step cgroups), and returns it. */
export function ensureV2Parent(mountPoint: string, kilnName: string, controllers: readonly string[]): string {
  enableForChildren(mountPoint, controllers);
  const parent = path.join(mountPoint, kilnName);
  mkdirSync(parent, { recursive: true });
  enableForChildren(parent, controllers);
  return parent;
}
