// Per-step cgroup v1 directories: the devices policy Docker applies (raw devices denied), and later resource limits.
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExecSetupError } from './errors.js';
import type { ResourceLimits } from './types.js';

/** runc's default device rules: mknod of anything (harmless without access), read/write only of the standard devices. */
export const DEVICE_RULES: readonly string[] = [
  'c *:* m',
  'b *:* m',
  'c 1:3 rwm', // null
  'c 1:5 rwm', // zero
  'c 1:7 rwm', // full
  'c 1:8 rwm', // random
  'c 1:9 rwm', // urandom
  'c 5:0 rwm', // tty
  'c 5:1 rwm', // console
  'c 5:2 rwm', // ptmx
  'c 136:* rwm', // pts
  'c 10:200 rwm', // tun
];

export const KILN_CGROUP = 'kiln';

/** Where each v1 controller of process `pid` lives, e.g. devices → /sys/fs/cgroup/devices/<its path>. */
function cgroupDirsOf(pid: number | 'self'): Map<string, string> {
  const mounts = new Map<string, { mountPoint: string; root: string }>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (pre === undefined || post === undefined) continue;
    const [fstype, , superOpts] = post.split(' ');
    if (fstype !== 'cgroup' || superOpts === undefined) continue;
    const fields = pre.split(' ');
    const root = fields[3];
    const mountPoint = fields[4];
    if (root === undefined || mountPoint === undefined) continue;
    for (const opt of superOpts.split(',')) mounts.set(opt, { mountPoint, root });
  }
  const dirs = new Map<string, string>();
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const [, controllers, cgPath] = line.split(':');
    if (controllers === undefined || cgPath === undefined || controllers === '') continue;
    for (const controller of controllers.split(',')) {
      const m = mounts.get(controller);
      if (m === undefined) continue;
      dirs.set(controller, path.join(m.mountPoint, path.relative(m.root, cgPath)));
    }
  }
  return dirs;
}

let cgroupDirs: Map<string, string> | undefined;

/** The v1 directory of `controller` under which kiln creates its step cgroups, or undefined when there is none. */
export function kilnCgroupParent(controller: string): string | undefined {
  cgroupDirs ??= cgroupDirsOf('self');
  const own = cgroupDirs.get(controller);
  return own === undefined ? undefined : path.join(own, KILN_CGROUP);
}

/**
 * True when the kernel accounts swap per cgroup (v1 memory.memsw.*, which needs swapaccount=1 on older kernels), so
 * a memory+swap limit can be set. Without it docker limits memory alone and says so; kiln does the same.
 */
export function swapLimitSupported(): boolean {
  const parent = kilnCgroupParent('memory');
  return parent !== undefined && existsSync(path.join(path.dirname(parent), 'memory.memsw.limit_in_bytes'));
}

/**
 * The kiln step cgroups a running container is in, by controller (what `docker exec` joins): empty when its
 * controllers are all kiln's own (no limits, no devices policy).
 */
export function stepCgroupsOf(pid: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const [controller, dir] of cgroupDirsOf(pid)) {
    const parent = kilnCgroupParent(controller);
    if (parent !== undefined && path.dirname(dir) === parent) out.set(controller, dir);
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

/** A cgroup v1 limit the kernel cannot enforce here (no such controller). */
export class CgroupUnavailableError extends ExecSetupError {}

/** Remembers a failure to set up the devices cgroup (e.g. a read-only /sys/fs/cgroup) so it is not retried per step. */
let devicesUnavailable = false;

const CFS_PERIOD_US = 100_000;

/** The control files to write per controller for the requested limits (docker run --memory/--cpus/--pids-limit). */
function limitFiles(limits: ResourceLimits): Map<string, [string, string][]> {
  const out = new Map<string, [string, string][]>();
  if (limits.memoryBytes !== undefined) {
    // The plain limit first: the kernel refuses a memory+swap limit below the memory limit in force.
    const memory: [string, string][] = [['memory.limit_in_bytes', String(Math.floor(limits.memoryBytes))]];
    if (limits.memorySwapBytes !== undefined) memory.push(['memory.memsw.limit_in_bytes', limits.memorySwapBytes < 0 ? '-1' : String(Math.floor(limits.memorySwapBytes))]);
    out.set('memory', memory);
  }
  if (limits.cpus !== undefined) {
    const quota = Math.max(1000, Math.round(limits.cpus * CFS_PERIOD_US));
    out.set('cpu', [
      ['cpu.cfs_period_us', String(CFS_PERIOD_US)],
      ['cpu.cfs_quota_us', String(quota)],
    ]);
  }
  if (limits.pids !== undefined) out.set('pids', [['pids.max', String(Math.floor(limits.pids))]]);
  return out;
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
    if (opts.devices && !devicesUnavailable) devices = await createDevicesCgroup(id, dirs);
    firstLimit = dirs.length;
    for (const [controller, files] of limitFiles(opts.limits ?? {})) {
      const parent = kilnCgroupParent(controller);
      if (parent === undefined || !existsSync(path.dirname(parent))) {
        throw new CgroupUnavailableError(`cannot apply the ${controller} limit: no cgroup v1 ${controller} controller is mounted on this host`);
      }
      const dir = path.join(parent, id);
      await mkdir(dir, { recursive: true });
      dirs.push(dir);
      for (const [file, value] of files) await writeFile(path.join(dir, file), value);
    }
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

/** Parents known to carry exactly DEVICE_RULES (children inherit a parent's device list when created). */
const devicesParentsReady = new Set<string>();

async function writeDeviceRules(dir: string): Promise<void> {
  await writeFile(path.join(dir, 'devices.deny'), 'a');
  for (const rule of DEVICE_RULES) await writeFile(path.join(dir, 'devices.allow'), rule);
}

/**
 * Puts runc's device rules on the shared kiln parent so a step cgroup needs only a mkdir. Returns false when the
 * parent cannot take them: the kernel refuses to change a device cgroup's default once it has children
 * (EINVAL), e.g. steps of another builder; the caller then writes the rules on each step's own cgroup.
 */
async function ensureDevicesParent(parent: string): Promise<boolean> {
  if (devicesParentsReady.has(parent)) return true;
  await mkdir(parent, { recursive: true });
  const current = (await readFile(path.join(parent, 'devices.list'), 'utf8')).trim().split('\n');
  if (current.join('\n') !== DEVICE_RULES.join('\n')) {
    try {
      await writeDeviceRules(parent);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EINVAL') return false;
      throw err;
    }
  }
  devicesParentsReady.add(parent);
  return true;
}

async function createDevicesCgroup(id: string, dirs: string[]): Promise<boolean> {
  const parent = kilnCgroupParent('devices');
  if (parent === undefined || !existsSync(path.dirname(parent))) return false;
  const dir = path.join(parent, id);
  try {
    const inherited = await ensureDevicesParent(parent);
    mkdirSync(dir);
    dirs.push(dir);
    if (!inherited) await writeDeviceRules(dir);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Not allowed here (nested container, read-only cgroupfs): fall back to dropping CAP_MKNOD.
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw err;
    devicesUnavailable = true;
    if (dirs.at(-1) === dir) {
      dirs.pop();
      await rmdir(dir);
    }
    return false;
  }
}

/** Polls until each cgroup is empty (the pid namespace's teardown is asynchronous), then removes it. */
export async function removeCgroupDirs(dirs: readonly string[], timeoutMs = 10_000): Promise<void> {
  await waitCgroupsEmpty(dirs, timeoutMs);
  for (const dir of dirs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        rmdirSync(dir);
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

// A step's cgroup directories are made, polled and removed with synchronous calls: each is a few microseconds of
// cgroupfs, where a thread-pool round trip per call cost the builder more, on every step.

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
