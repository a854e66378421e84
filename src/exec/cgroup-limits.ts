// The control files and values that carry docker run's --memory, --memory-swap, --cpus and --pids-limit, per cgroup version.
import type { ResourceLimits } from './types.js';

export type LimitController = 'memory' | 'cpu' | 'pids';

/** A control file of a step cgroup and the value written to it, in the order they are written. */
export type ControlWrite = readonly [file: string, value: string];

/** The CFS period docker uses; --cpus is the quota in periods of this length. */
export const CFS_PERIOD_US = 100_000;

/** The quota in µs per period; the kernel refuses less than 1 ms. */
function cpuQuota(cpus: number): number {
  return Math.max(1000, Math.round(cpus * CFS_PERIOD_US));
}

/**
 * The control files to write per controller for the requested limits. v1 takes docker's memory+swap total as it is
 * (memory.memsw.limit_in_bytes, -1 unlimited); v2 limits swap alone (memory.swap.max = total − memory, "max" for -1).
 */
export function limitFiles(limits: ResourceLimits, version: 1 | 2): Map<LimitController, ControlWrite[]> {
  const out = new Map<LimitController, ControlWrite[]>();
  if (limits.memoryBytes !== undefined) {
    const memory = Math.floor(limits.memoryBytes);
    const swapTotal = limits.memorySwapBytes === undefined ? undefined : limits.memorySwapBytes < 0 ? -1 : Math.floor(limits.memorySwapBytes);
    if (version === 1) {
      // The plain limit first: the kernel refuses a memory+swap limit below the memory limit in force.
      const files: ControlWrite[] = [['memory.limit_in_bytes', String(memory)]];
      if (swapTotal !== undefined) files.push(['memory.memsw.limit_in_bytes', String(swapTotal)]);
      out.set('memory', files);
    } else {
      const files: ControlWrite[] = [['memory.max', String(memory)]];
      // A total below the memory limit is refused as on v1: the kernel rejects the negative value (EINVAL).
      if (swapTotal !== undefined) files.push(['memory.swap.max', swapTotal === -1 ? 'max' : String(swapTotal - memory)]);
      out.set('memory', files);
    }
  }
  if (limits.cpus !== undefined) {
    const quota = String(cpuQuota(limits.cpus));
    out.set(
      'cpu',
      version === 1
        ? [
            ['cpu.cfs_period_us', String(CFS_PERIOD_US)],
            ['cpu.cfs_quota_us', quota],
          ]
        : [['cpu.max', `${quota} ${CFS_PERIOD_US}`]],
    );
  }
  if (limits.pids !== undefined) out.set('pids', [['pids.max', String(Math.floor(limits.pids))]]);
  return out;
}
