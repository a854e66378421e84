// The kernel filesystems every container gets: a fresh /proc, a private /dev with the standard devices, a read-only /sys.
import { chmodSync, symlinkSync } from 'node:fs';
import { S_IFCHR, makedev, mknod } from '../sys/index.js';
import { MS, mount } from './syscalls.js';
import { ensureMountTarget } from './mount-target.js';

/** The character devices Docker puts in /dev (and that the devices cgroup allows). */
export const STANDARD_DEVICES: readonly { name: string; major: number; minor: number }[] = [
  { name: 'null', major: 1, minor: 3 },
  { name: 'zero', major: 1, minor: 5 },
  { name: 'full', major: 1, minor: 7 },
  { name: 'random', major: 1, minor: 8 },
  { name: 'urandom', major: 1, minor: 9 },
  { name: 'tty', major: 5, minor: 0 },
];

/** /proc, mounted by PID 1 of the new pid namespace so it shows the container's own processes. */
export function mountProc(root: string): string {
  const target = ensureMountTarget(root, '/proc', 'dir');
  mount('proc', target, 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC, null);
  return target;
}

/** A tmpfs /dev holding only the standard devices, a private devpts instance, /dev/shm and /dev/mqueue. Returns the host path of /dev. */
export function mountDev(root: string): string {
  const dev = ensureMountTarget(root, '/dev', 'dir');
  mount('tmpfs', dev, 'tmpfs', MS.NOSUID | MS.STRICTATIME, 'mode=755,size=65536k');
  for (const d of STANDARD_DEVICES) {
    const p = `${dev}/${d.name}`;
    mknod(p, S_IFCHR | 0o666, makedev(d.major, d.minor));
    // mknod's mode is filtered by the umask.
    chmodSync(p, 0o666);
  }
  ensureMountTarget(dev, '/pts', 'dir');
  mount('devpts', `${dev}/pts`, 'devpts', MS.NOSUID | MS.NOEXEC, 'newinstance,ptmxmode=0666,mode=0620,gid=5');
  symlinkSync('pts/ptmx', `${dev}/ptmx`);
  ensureMountTarget(dev, '/shm', 'dir');
  mount('shm', `${dev}/shm`, 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=1777,size=65536k');
  ensureMountTarget(dev, '/mqueue', 'dir');
  mount('mqueue', `${dev}/mqueue`, 'mqueue', MS.NOSUID | MS.NODEV | MS.NOEXEC, null);
  symlinkSync('/proc/self/fd', `${dev}/fd`);
  symlinkSync('/proc/self/fd/0', `${dev}/stdin`);
  symlinkSync('/proc/self/fd/1', `${dev}/stdout`);
  symlinkSync('/proc/self/fd/2', `${dev}/stderr`);
  return dev;
}

/** sysfs, read-only unless the step is insecure. */
export function mountSys(root: string, readonly: boolean): string {
  const target = ensureMountTarget(root, '/sys', 'dir');
  mount('sysfs', target, 'sysfs', MS.NOSUID | MS.NODEV | MS.NOEXEC | (readonly ? MS.RDONLY : 0), null);
  return target;
}

/** /proc, /dev and /sys mounted (and masked) ahead of time on a staging directory, moved into the root later. */
export interface StagedKernelMounts {
  readonly proc: string;
  readonly dev: string;
  readonly sys: string;
}

/**
 * Mounts a sandboxed step's /proc, /dev and read-only /sys, with Docker's masks, below `stageDir`: an init started
 * ahead of its step (already PID 1 of its pid, ipc and mount namespaces) does these ~35 mounts while it waits.
 */
export function stageKernelMounts(stageDir: string, mask: (mounts: { proc: string; sys: string }, devNull: string) => void): StagedKernelMounts {
  const proc = mountProc(stageDir);
  const dev = mountDev(stageDir);
  const sys = mountSys(stageDir, true);
  mask({ proc, sys }, `${dev}/null`);
  return { proc, dev, sys };
}

/** Moves staged kernel mounts (with the masks on them) onto /proc, /dev and /sys of the root: three syscalls. */
export function moveKernelMounts(staged: StagedKernelMounts, root: string): void {
  for (const name of ['proc', 'dev', 'sys'] as const) mount(staged[name], ensureMountTarget(root, `/${name}`, 'dir'), null, MS.MOVE, null);
}
