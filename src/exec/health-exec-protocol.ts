// What the builder hands the health-check helper (a JSON file): the container to join and the check's process.

export interface HealthExecSpec {
  /** The container's PID 1 as the host sees it (nsenter's target). */
  readonly containerPid: number;
  /** Field 22 of its /proc/PID/stat when the check was planned: a different value means the pid was reused. */
  readonly containerStartTime: string;
  /** The container's own (kiln step) cgroup.procs files, joined before anything of the image runs. */
  readonly cgroupProcs: readonly string[];
  /** True when the container runs under a devices cgroup, so CAP_MKNOD can stay as in Docker's default set. */
  readonly devicesCgroup: boolean;
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
}

/** Exit status of the helper when it refused to run the check (the container is gone or is not the one planned). */
export const HEALTH_EXEC_NOT_RUN = 125;
