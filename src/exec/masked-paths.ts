// Docker's default masking of kernel interfaces under /proc and /sys (hidden or read-only inside the container).
import { lstatOrNull } from '../disk/lstat-or-null.js';
import { MS, mount } from './syscalls.js';

/** Hidden: files are covered by /dev/null, directories by an empty read-only tmpfs (moby's oci defaults). */
export const MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Where /proc and /sys are mounted on the host side (already resolved inside the root) before pivot_root. */
export interface KernelMounts {
  readonly proc: string;
  readonly sys: string;
}

function hostPathOf(mounts: KernelMounts, p: string): string {
  // Below the fresh proc and sysfs mounts the image cannot plant symlinks, so joining is safe.
  if (p.startsWith('/proc/')) return mounts.proc + p.slice('/proc'.length);
  if (p.startsWith('/sys/')) return mounts.sys + p.slice('/sys'.length);
  throw new Error(`masked path outside /proc and /sys: ${p}`);
}

/** Applies the masks before pivot_root; `devNull` is the container's own /dev/null. */
export function maskKernelPaths(mounts: KernelMounts, devNull: string): void {
  for (const p of MASKED_PATHS) {
    const hostPath = hostPathOf(mounts, p);
    const st = lstatOrNull(hostPath);
    if (st === null) continue;
    if (st.isDirectory()) mount('tmpfs', hostPath, 'tmpfs', MS.RDONLY, 'size=0,mode=555');
    else mount(devNull, hostPath, null, MS.BIND, null);
  }
  for (const p of READONLY_PATHS) {
    const hostPath = hostPathOf(mounts, p);
    if (lstatOrNull(hostPath) === null) continue;
    mount(hostPath, hostPath, null, MS.BIND | MS.REC, null);
    mount(null, hostPath, null, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, null);
  }
}

