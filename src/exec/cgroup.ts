// Per-step cgroups: the devices policy Docker applies (raw devices denied, v1 only), and the resource limits
// (each controller on v1 where it is mounted as v1, else on cgroup2).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { limitFiles } from './cgroup-limits.js';
import type { LimitController } from './cgroup-limits.js';
import { hierarchyOf, parseCgroupMounts, parseControllerList, parseProcCgroup } from './cgroup-mounts.js';
import type { CgroupMount, CgroupMounts, ProcCgroups } from './cgroup-mounts.js';
import { createDevicesCgroup } from './cgroup-devices.js';
import { ensureV2Parent } from './cgroup-v2.js';
import { CgroupUnavailableError, ExecSetupError } from './errors.js';
import type { ResourceLimits } from './types.js';

export { CgroupUnavailableError } from './errors.js';

export const KILN_CGROUP = 'kiln';

/** The controllers kiln makes step cgroups for: the devices policy (v1 only) and the limits. */
const KILN_CONTROLLERS = ['devices', 'memory', 'cpu', 'pids'] as const;

interface CgroupLayout {
  readonly mounts: CgroupMounts;
  /** What the cgroup2 top offers (its cgroup.controllers); empty without a cgroup2 mount. */
  readonly v2Controllers: ReadonlySet<string>;
  /** The builder's own cgroups: kiln's v1 step cgroups go below them. */
  readonly own: ProcCgroups;
}

let layout: CgroupLayout | undefined;

function cgroupLayout(): CgroupLayout {
  if (layout === undefined) {
    const mounts = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
    const v2Controllers = mounts.v2 === undefined ? new Set<string>() : parseControllerList(readFileSync(path.join(mounts.v2.mountPoint, 'cgroup.controllers'), 'utf8'));
    layout = { mounts, v2Controllers, own: parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8')) };
  }
  return layout;
}

/** The host directory of cgroup `cgPath` in a hierarchy mounted as `mount`. */
function dirIn(mount: CgroupMount, cgPath: string): string {
  return path.join(mount.mountPoint, path.relative(mount.root, cgPath));
}

/** Where kiln's step cgroups of one controller go: `<own v1 cgroup>/kiln`, or `<cgroup2 mount>/kiln`. */
type KilnParent = { readonly version: 1; readonly parent: string } | { readonly version: 2; readonly parent: string; readonly mount: CgroupMount };

function kilnParentOf(controller: string): KilnParent | undefined {
  const { mounts, v2Controllers, own } = cgroupLayout();
  const version = hierarchyOf(controller, mounts, v2Controllers);
  if (version === 1) {
    const mount = mounts.v1.get(controller);
    const cgPath = own.v1.get(controller);
    return mount === undefined || cgPath === undefined ? undefined : { version, parent: path.join(dirIn(mount, cgPath), KILN_CGROUP) };
  }
  if (version === 2 && mounts.v2 !== undefined) return { version, parent: path.join(mounts.v2.mountPoint, KILN_CGROUP), mount: mounts.v2 };
  return undefined;
}

/** The directory under which kiln creates its step cgroups of `controller` (v1 or cgroup2), or undefined when there is none. */
export function kilnCgroupParent(controller: string): string | undefined {
  return kilnParentOf(controller)?.parent;
}

/**
 * True when the kernel accounts swap per cgroup, so a memory+swap limit can be set: v1 memory.memsw.* (needs
 * swapaccount=1 on older kernels), or cgroup2 memory.swap.max (which only non-top cgroups have, hence the kiln
 * parent is prepared first). Without it docker limits memory alone and says so; kiln does the same.
 */
export function swapLimitSupported(): boolean {
  const where = kilnParentOf('memory');
  if (where === undefined) return false;
  if (where.version === 1) return existsSync(path.join(path.dirname(where.parent), 'memory.memsw.limit_in_bytes'));
  return existsSync(path.join(ensureV2Parent(where.mount.mountPoint, KILN_CGROUP, ['memory']), 'memory.swap.max'));
}

/**
 * The kiln step cgroups a running container is in, by controller (what `docker exec` joins): empty when its
 * controllers are all kiln's own (no limits, no devices policy). Controllers served by cgroup2 share one directory.
 */
export function stepCgroupsOf(pid: number): Map<string, string> {
  const { mounts } = cgroupLayout();
  const theirs = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  const out = new Map<string, string>();
  for (const controller of KILN_CONTROLLERS) {
    const where = kilnParentOf(controller);
    if (where === undefined) continue;
    let dir: string | undefined;
    if (where.version === 2) dir = theirs.v2 === undefined ? undefined : dirIn(where.mount, theirs.v2);
    else {
      const mount = mounts.v1.get(controller);
      const cgPath = theirs.v1.get(controller);
      dir = mount === undefined || cgPath === undefined ? undefined : dirIn(mount, cgPath);
    }
    if (dir !== undefined && path.dirname(dir) === where.parent) out.set(controller, dir);
  }
  return out;
}

export interface StepCgroup {
  /** cgroup.procs of the devices policy: the init joins it as soon as it starts, before anything of the image exists. */
  readonly policyProcsFiles: readonly string[];
  /** cgroup.procs of the resource limits, joined just before the command: under them Node itself could not start. */
  readonly limitProcsFiles: readonly string[];
  /** True when the devices policy is in place. */
  readonly devices: boolean;
  /** Waits until no process is left in the step's cgroups (every process of the container is gone). */
  waitEmpty(): Promise<void>;
  /** Waits until no process is left in the step's cgroups, then removes them. */
  release(): Promise<void>;
}

const LIMIT_FLAGS: Readonly<Record<LimitController, string>> = { memory: '--memory', cpu: '--cpus', pids: '--pids-limit' };

function unavailable(controller: LimitController): CgroupUnavailableError {
  const { mounts, v2Controllers } = cgroupLayout();
  const v2 =
    mounts.v2 === undefined
      ? 'no cgroup2 hierarchy is mounted'
      : `the cgroup2 hierarchy at ${mounts.v2.mountPoint} does not offer it (its cgroup.controllers: ${[...v2Controllers].join(' ') || 'none'})`;
  return new CgroupUnavailableError(
    `cannot apply the ${controller} limit (${LIMIT_FLAGS[controller]}): no cgroup v1 ${controller} hierarchy is mounted and ${v2}; mount the controller or run without the limit`,
  );
}

export interface StepCgroupOptions {
  /** Docker's devices policy (raw devices denied); off for RUN --security=insecure. */
  readonly devices: boolean;
  readonly limits?: ResourceLimits;
}

export async function createStepCgroup(id: string, opts: StepCgroupOptions): Promise<StepCgroup> {
  const dirs: string[] = [];
  let devices = false;
  // dirs[0, firstLimit) is the devices policy (if any), the rest the limits.
  let firstLimit = 0;
  try {
    if (opts.devices) devices = await createDevicesCgroup(kilnCgroupParent('devices'), id, dirs);
    firstLimit = dirs.length;
    await createLimitCgroups(id, opts.limits ?? {}, dirs);
  } catch (err) {
    await removeCgroupDirs(dirs);
    throw err;
  }
  const procs = (d: string): string => path.join(d, 'cgroup.procs');
  return {
    policyProcsFiles: dirs.slice(0, firstLimit).map(procs),
    limitProcsFiles: dirs.slice(firstLimit).map(procs),
    devices,
    waitEmpty: () => waitCgroupsEmpty(dirs),
    release: () => removeCgroupDirs(dirs),
  };
}

/**
 * One directory per v1 controller (each is its own hierarchy), and one cgroup2 directory holding every limit that
 * cgroup2 serves. Each made directory is pushed to `dirs` at once, so the caller can remove it on failure.
 */
async function createLimitCgroups(id: string, limits: ResourceLimits, dirs: string[]): Promise<void> {
  const files = { 1: limitFiles(limits, 1), 2: limitFiles(limits, 2) };
  const onV2: LimitController[] = [];
  let v2Mount: CgroupMount | undefined;
  for (const controller of files[1].keys()) {
    const where = kilnParentOf(controller);
    if (where === undefined || (where.version === 1 && !existsSync(path.dirname(where.parent)))) throw unavailable(controller);
    if (where.version === 2) {
      onV2.push(controller);
      v2Mount = where.mount;
      continue;
    }
    const dir = path.join(where.parent, id);
    await mkdir(dir, { recursive: true });
    dirs.push(dir);
    for (const [file, value] of files[1].get(controller) ?? []) await writeFile(path.join(dir, file), value);
  }
  if (v2Mount === undefined) return;
  const dir = path.join(ensureV2Parent(v2Mount.mountPoint, KILN_CGROUP, onV2), id);
  mkdirSync(dir);
  dirs.push(dir);
  for (const controller of onV2) {
    for (const [file, value] of files[2].get(controller) ?? []) await writeFile(path.join(dir, file), value);
  }
}

/** Polls until each cgroup is empty (the pid namespace's teardown is asynchronous), then removes it. */
export async function removeCgroupDirs(dirs: readonly string[], timeoutMs = 10_000): Promise<void> {
  await waitCgroupsEmpty(dirs, timeoutMs);
  for (const dir of dirs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await rmdir(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        // Empty but still busy for a moment while the kernel finishes tearing its last task down.
        if (code !== 'EBUSY') throw err;
      }
      if (Date.now() > deadline) throw new ExecSetupError(`cgroup ${dir} is still busy after ${timeoutMs} ms`);
      await sleep(2);
    }
  }
}

// A step's cgroup directories are made and polled with synchronous calls, on the step's critical path: a few
// microseconds of cgroupfs each, where a thread-pool round trip cost more. Their removal runs in the background and
// goes through the thread pool: an rmdir in cgroupfs waits for the kernel to take the cgroup offline (~2 ms here),
// which would block the builder.

/** The pids in a cgroup (empty when it is gone). */
function readProcs(dir: string): string {
  try {
    return readFileSync(path.join(dir, 'cgroup.procs'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** Polls until no process is left in the cgroups (the pid namespace's teardown is asynchronous). */
export async function waitCgroupsEmpty(dirs: readonly string[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const dir of dirs) {
    for (;;) {
      const procs = readProcs(dir);
      if (procs.trim() === '') break;
      if (Date.now() > deadline) throw new ExecSetupError(`cgroup ${dir} still has processes after ${timeoutMs} ms: ${procs.trim()}`);
      await sleep(2);
    }
  }
}
