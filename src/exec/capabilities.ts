// Capability bounding set and no_new_privs for the container's process (Docker's default set).
import { readFileSync } from 'node:fs';
import { prctl } from './syscalls.js';

const PR_CAPBSET_DROP = 24;
const PR_SET_NO_NEW_PRIVS = 38;

export const CAP = {
  CHOWN: 0,
  DAC_OVERRIDE: 1,
  FOWNER: 3,
  FSETID: 4,
  KILL: 5,
  SETGID: 6,
  SETUID: 7,
  SETPCAP: 8,
  NET_BIND_SERVICE: 10,
  NET_RAW: 13,
  SYS_CHROOT: 18,
  MKNOD: 27,
  AUDIT_WRITE: 29,
  SETFCAP: 31,
} as const;

/** Docker's 14 default capabilities; root's CapEff is then a80425fb. */
export const DEFAULT_CAPS: readonly number[] = Object.values(CAP);

/** Reads the highest capability the kernel knows (before pivot_root, while the host's /proc is still there). */
export function lastCap(): number {
  return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
}

/**
 * Drops every capability outside `keep` from the bounding set. After execve root's permitted and effective
 * sets equal the bounding set, and a non-root user gets none.
 */
export function dropBoundingCaps(keep: readonly number[], last: number): void {
  for (let cap = 0; cap <= last; cap++) {
    if (!keep.includes(cap)) prctl(PR_CAPBSET_DROP, cap);
  }
}

export function setNoNewPrivs(): void {
  prctl(PR_SET_NO_NEW_PRIVS, 1);
}
