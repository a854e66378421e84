// Test harness: moves cgroup controllers from their v1 hierarchies to cgroup2 and back, so the cgroup2 path of
// kiln's limits runs on the real kernel. Host-global: only the cgroup2 vitest config runs it, never beside other tests.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

interface MountLine {
  readonly mountPoint: string;
  readonly fstype: string;
  readonly superOpts: string;
}

function cgroupMountLines(): MountLine[] {
  const out: MountLine[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    const [fstype, , superOpts] = (post ?? '').split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    out.push({ mountPoint: (pre ?? '').split(' ')[4] ?? '', fstype, superOpts: superOpts ?? '' });
  }
  return out;
}

/** The cgroup2 mount point, from mountinfo. */
export function cgroup2Mount(): string {
  const mount = cgroupMountLines().find((m) => m.fstype === 'cgroup2');
  if (mount === undefined) throw new Error('cannot test cgroup2 limits: no cgroup2 hierarchy is mounted on this host (/proc/self/mountinfo)');
  return mount.mountPoint;
}

function v1MountOf(controller: string): MountLine | undefined {
  return cgroupMountLines().find((m) => m.fstype === 'cgroup' && m.superOpts.split(',').includes(controller));
}

/** /proc/cgroups rows by controller: hierarchy id (0 = cgroup2 or unused), number of cgroups, enabled. */
export function procCgroups(): Map<string, { hierarchy: number; cgroups: number; enabled: number }> {
  const rows = new Map<string, { hierarchy: number; cgroups: number; enabled: number }>();
  for (const line of readFileSync('/proc/cgroups', 'utf8').split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [name, hierarchy, cgroups, enabled] = line.split('\t');
    rows.set(name ?? '', { hierarchy: Number(hierarchy), cgroups: Number(cgroups), enabled: Number(enabled) });
  }
  return rows;
}

function words(file: string): string[] {
  return readFileSync(file, 'utf8').split(/\s+/).filter((w) => w !== '');
}

/**
 * What a test can compare before and after: the cgroup mounts, cgroup2's controllers, and for each of `controllers`
 * its /proc/cgroups row (hierarchy ids aside: a remount gets a new one) and its v1 top-level cgroups.
 */
export function cgroupHostState(controllers: readonly string[]): { mounts: string[]; v2: string[]; controllers: string[] } {
  const v2 = cgroup2Mount();
  return {
    mounts: cgroupMountLines()
      .map((m) => `${m.mountPoint} ${m.fstype} ${m.superOpts}`)
      .sort(),
    v2: [`controllers: ${words(join(v2, 'cgroup.controllers')).sort().join(' ')}`, `subtree_control: ${words(join(v2, 'cgroup.subtree_control')).sort().join(' ')}`],
    // The top-level cgroups, not the count: other kiln runs come and go below `kiln` meanwhile.
    controllers: controllers.map((name) => {
      const row = procCgroups().get(name);
      const mount = v1MountOf(name);
      const top = mount === undefined ? [] : readdirSync(mount.mountPoint, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
      return `${name} ${row?.hierarchy === 0 ? 'cgroup2-or-none' : 'v1'} enabled=${row?.enabled} top-level cgroups: ${top.sort().join(' ')}`;
    }),
  };
}

interface Moved {
  readonly controller: string;
  /** Where and how its v1 hierarchy was mounted; undefined when it was on cgroup2 already (a pure v2 host). */
  readonly v1?: { readonly mountPoint: string; readonly options: string; readonly hadKilnDir: boolean };
}

export interface ControllersOnV2 {
  readonly moved: readonly Moved[];
  /** What the cgroup2 top had enabled for its children before the test. */
  readonly subtreeBefore: readonly string[];
}

/**
 * Moves `controllers` to cgroup2: removes kiln's own `kiln` cgroup from each v1 hierarchy (it must be the only
 * cgroup there), unmounts the hierarchy and waits until the kernel lists the controller in cgroup2's
 * cgroup.controllers. Throws, saying why, when a controller cannot be freed; what was moved is put back first.
 */
export async function moveControllersToV2(controllers: readonly string[]): Promise<ControllersOnV2> {
  const v2 = cgroup2Mount();
  const state = { moved: [] as Moved[], subtreeBefore: words(join(v2, 'cgroup.subtree_control')) };
  try {
    for (const controller of controllers) await moveOne(controller, v2, state.moved);
  } catch (err) {
    try {
      await restoreControllers(state);
    } catch (restoreErr) {
      throw new Error(`${(err as Error).message}\n... and then ${(restoreErr as Error).message}`);
    }
    throw err;
  }
  return state;
}

async function moveOne(controller: string, v2: string, moved: Moved[]): Promise<void> {
  const mount = v1MountOf(controller);
  if (mount === undefined) {
    if (!words(join(v2, 'cgroup.controllers')).includes(controller)) {
      throw new Error(`cannot test cgroup2 limits: the ${controller} controller is neither mounted as cgroup v1 nor offered by cgroup2 (${v2}/cgroup.controllers)`);
    }
    moved.push({ controller });
    return;
  }
  const cgroups = readdirSync(mount.mountPoint, { withFileTypes: true }).filter((e) => e.isDirectory());
  const foreign = cgroups.filter((e) => e.name !== 'kiln').map((e) => e.name);
  if (foreign.length > 0) {
    throw new Error(`cannot free the ${controller} controller for cgroup2: its v1 hierarchy ${mount.mountPoint} holds cgroups other than kiln's (${foreign.join(', ')}), so unmounting it would not release the controller`);
  }
  const hadKilnDir = cgroups.length > 0;
  if (hadKilnDir) {
    const steps = readdirSync(join(mount.mountPoint, 'kiln'), { withFileTypes: true }).filter((e) => e.isDirectory());
    if (steps.length > 0) {
      throw new Error(`cannot free the ${controller} controller for cgroup2: ${mount.mountPoint}/kiln holds step cgroups (${steps.map((e) => e.name).join(', ')}): is a kiln with limits running?`);
    }
    rmdirSync(join(mount.mountPoint, 'kiln'));
  }
  const options = mount.superOpts
    .split(',')
    .filter((o) => o !== 'rw' && o !== 'ro')
    .join(',');
  moved.push({ controller, v1: { mountPoint: mount.mountPoint, options, hadKilnDir } });
  const umount = spawnSync('umount', [mount.mountPoint], { encoding: 'utf8' });
  if (umount.status !== 0) {
    throw new Error(
      `cannot free the ${controller} controller for cgroup2: umount ${mount.mountPoint} failed (${umount.stderr.trim()}). ` +
        'Some process holds that v1 mount open (fuser -vm lists it where its files can be read); another mount of the same hierarchy would not help, the kernel frees a controller only when every mount of its hierarchy is gone',
    );
  }
  // The hierarchy is destroyed, and its controllers handed to cgroup2, after the unmount returns.
  for (let i = 0; i < 250; i++) {
    if (procCgroups().get(controller)?.hierarchy === 0 && words(join(v2, 'cgroup.controllers')).includes(controller)) return;
    await sleep(20);
  }
  throw new Error(
    `cannot free the ${controller} controller for cgroup2: ${mount.mountPoint} is unmounted but /proc/cgroups still shows it on v1 hierarchy ${procCgroups().get(controller)?.hierarchy} (another mount namespace may still have that hierarchy mounted)`,
  );
}

/**
 * Puts the host back: removes kiln's cgroup2 cgroups, disables the controllers the test brought to cgroup2's
 * top, remounts each v1 hierarchy with its options and recreates its `kiln` cgroup if it had one. Every step is
 * tried; the errors are thrown together at the end.
 */
export async function restoreControllers(state: ControllersOnV2): Promise<void> {
  const errors: string[] = [];
  const attempt = async (what: string, step: () => Promise<void> | void): Promise<void> => {
    try {
      await step();
    } catch (err) {
      errors.push(`${what}: ${(err as Error).message}`);
    }
  };
  const v2 = cgroup2Mount();
  await attempt(`removing ${v2}/kiln`, () => removeCgroupTree(join(v2, 'kiln')));
  const added = words(join(v2, 'cgroup.subtree_control')).filter((c) => !state.subtreeBefore.includes(c));
  if (added.length > 0) await attempt(`disabling ${added.join(' ')} in ${v2}/cgroup.subtree_control`, () => writeFileSync(join(v2, 'cgroup.subtree_control'), added.map((c) => `-${c}`).join(' ')));
  for (const { controller, v1 } of state.moved) {
    if (v1 === undefined) continue;
    await attempt(`remounting the v1 ${controller} hierarchy at ${v1.mountPoint}`, async () => {
      // The controller's cgroup2 state dies asynchronously after it is disabled: until then the mount is refused (EBUSY).
      for (let i = 0; v1MountOf(controller) === undefined; i++) {
        try {
          execFileSync('mount', ['-t', 'cgroup', '-o', v1.options, 'cgroup', v1.mountPoint], { stdio: 'pipe' });
          break;
        } catch (err) {
          if (i >= 250) throw err;
          await sleep(20);
        }
      }
      if (v1.hadKilnDir && !existsSync(join(v1.mountPoint, 'kiln'))) mkdirSync(join(v1.mountPoint, 'kiln'));
    });
  }
  if (errors.length > 0) throw new Error(`the host's cgroup layout could not be fully restored:\n${errors.join('\n')}`);
}

/** Removes a cgroup and the cgroups below it, waiting for each to empty first. */
async function removeCgroupTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) await removeCgroupTree(join(dir, entry.name));
  for (let i = 0; words(join(dir, 'cgroup.procs')).length > 0; i++) {
    if (i >= 500) throw new Error(`${dir} still has processes: ${words(join(dir, 'cgroup.procs')).join(' ')}`);
    await sleep(20);
  }
  rmdirSync(dir);
}
