// The devices policy of a step (cgroup v1 devices controller): runc's default rules, so raw devices stay closed.
import { existsSync, mkdirSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

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

/** Remembers a failure to set up the devices cgroup (e.g. a read-only /sys/fs/cgroup) so it is not retried per step. */
let devicesUnavailable = false;

/**
 * Makes the step's devices cgroup under `parent` (kiln's v1 devices parent; undefined where there is none, as on a
 * cgroup2-only host) and pushes it to `dirs`. False when there is none: the init then drops CAP_MKNOD instead.
 */
export async function createDevicesCgroup(parent: string | undefined, id: string, dirs: string[]): Promise<boolean> {
  if (devicesUnavailable || parent === undefined || !existsSync(path.dirname(parent))) return false;
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
