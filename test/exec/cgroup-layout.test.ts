// Which cgroup hierarchy serves each limit, from mountinfo text, and the control files written on v1 and cgroup2.
import { describe, expect, it } from 'vitest';
import { limitFiles } from '../../src/exec/cgroup-limits.js';
import { hierarchyOf, parseCgroupMounts, parseControllerList, parseProcCgroup } from '../../src/exec/cgroup-mounts.js';

/** This VM's layout: every controller on v1, with cgroup2 beside them offering only hugetlb. */
const HYBRID = `23 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

/** A systemd host booted with the unified hierarchy only. */
const PURE_V2 = `22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

/** Docker's older layout: a combined cpu,cpuacct hierarchy mounted at a container's own cgroup. */
const NESTED_V1 = `700 690 0:30 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid,nodev,noexec,relatime master:11 - cgroup cgroup rw,cpu,cpuacct
`;

describe('cgroup mounts from mountinfo', () => {
  it('lists each v1 controller under its own hierarchy and finds the cgroup2 mount beside them', () => {
    const mounts = parseCgroupMounts(HYBRID);
    expect(mounts.v1.get('pids')).toEqual({ mountPoint: '/sys/fs/cgroup/pids', root: '/' });
    expect(mounts.v1.get('name=systemd')?.mountPoint).toBe('/sys/fs/cgroup/systemd');
    expect(mounts.v1.has('hugetlb')).toBe(false);
    expect(mounts.v2).toEqual({ mountPoint: '/sys/fs/cgroup/unified', root: '/' });
  });

  it('finds a cgroup2 mount wherever it is, with no v1 hierarchy at all', () => {
    const mounts = parseCgroupMounts(PURE_V2);
    expect(mounts.v1.size).toBe(0);
    expect(mounts.v2).toEqual({ mountPoint: '/sys/fs/cgroup', root: '/' });
  });

  it('lists a combined hierarchy under both controllers and keeps the cgroup it shows at its top', () => {
    const mounts = parseCgroupMounts(NESTED_V1);
    expect(mounts.v1.get('cpu')).toEqual({ mountPoint: '/sys/fs/cgroup/cpu,cpuacct', root: '/docker/abc' });
    expect(mounts.v1.get('cpuacct')).toBe(mounts.v1.get('cpu'));
    expect(mounts.v2).toBeUndefined();
  });

  it('decodes the octal escapes mountinfo writes for spaces in mount points', () => {
    const mounts = parseCgroupMounts('50 1 0:40 / /mnt/cgroup\\040two rw - cgroup2 cgroup2 rw\n');
    expect(mounts.v2?.mountPoint).toBe('/mnt/cgroup two');
  });

  it('takes a cgroup2 mount of the whole hierarchy over one that shows only a subtree', () => {
    const mounts = parseCgroupMounts('50 1 0:40 /some/sub /mnt/sub rw - cgroup2 cgroup2 rw\n51 1 0:40 / /mnt/whole rw - cgroup2 cgroup2 rw\n');
    expect(mounts.v2?.mountPoint).toBe('/mnt/whole');
  });
});

describe('the hierarchy chosen per controller', () => {
  const cases: readonly { name: string; mountinfo: string; v2Controllers: string; expected: Record<string, 1 | 2 | undefined> }[] = [
    {
      name: 'hybrid as booted: every limit on v1, even where cgroup2 could also take it',
      mountinfo: HYBRID,
      v2Controllers: 'hugetlb pids',
      expected: { memory: 1, cpu: 1, pids: 1, devices: 1 },
    },
    {
      name: 'hybrid with pids and cpu freed from v1: those two on cgroup2, memory and devices stay on v1',
      mountinfo: HYBRID.split('\n').filter((l) => !/\/sys\/fs\/cgroup\/(pids|cpu) /.test(l)).join('\n'),
      v2Controllers: 'cpu hugetlb pids\n',
      expected: { memory: 1, cpu: 2, pids: 2, devices: 1 },
    },
    {
      name: 'pure cgroup2: the limits cgroup2 offers there, no devices controller',
      mountinfo: PURE_V2,
      v2Controllers: 'cpuset cpu io memory hugetlb pids rdma misc\n',
      expected: { memory: 2, cpu: 2, pids: 2, devices: undefined },
    },
    {
      name: 'pure cgroup2 whose top does not offer memory: no hierarchy for it',
      mountinfo: PURE_V2,
      v2Controllers: 'cpu pids\n',
      expected: { memory: undefined, cpu: 2, pids: 2 },
    },
    {
      name: 'no cgroup filesystem mounted at all',
      mountinfo: '22 1 0:21 / /sys rw - sysfs sysfs rw\n',
      v2Controllers: '',
      expected: { memory: undefined, cpu: undefined, pids: undefined },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const mounts = parseCgroupMounts(c.mountinfo);
      const controllers = parseControllerList(c.v2Controllers);
      for (const [controller, version] of Object.entries(c.expected)) expect([controller, hierarchyOf(controller, mounts, controllers)]).toEqual([controller, version]);
    });
  }
});

describe('a process cgroup file', () => {
  it('gives the v1 path per controller and the cgroup2 path of the 0:: line', () => {
    const own = parseProcCgroup('9:name=systemd:/\n4:memory:/process_api/dccd\n1:cpu,cpuacct:/x\n0::/kiln/123-ab\n');
    expect(own.v1.get('memory')).toBe('/process_api/dccd');
    expect(own.v1.get('cpuacct')).toBe('/x');
    expect(own.v1.get('name=systemd')).toBe('/');
    expect(own.v2).toBe('/kiln/123-ab');
  });

  it('has no cgroup2 path on a v1-only host', () => {
    expect(parseProcCgroup('8:pids:/\n').v2).toBeUndefined();
  });
});

describe('limit control files', () => {
  const MiB = 1024 * 1024;
  const cases: readonly { name: string; limits: Parameters<typeof limitFiles>[0]; v1: Record<string, [string, string][]>; v2: Record<string, [string, string][]> }[] = [
    {
      name: '--memory alone (memory+swap twice the limit): swap as large as memory again',
      limits: { memoryBytes: 32 * MiB, memorySwapBytes: 64 * MiB },
      v1: { memory: [['memory.limit_in_bytes', String(32 * MiB)], ['memory.memsw.limit_in_bytes', String(64 * MiB)]] },
      v2: { memory: [['memory.max', String(32 * MiB)], ['memory.swap.max', String(32 * MiB)]] },
    },
    {
      name: '--memory-swap equal to --memory: no swap',
      limits: { memoryBytes: 32 * MiB, memorySwapBytes: 32 * MiB },
      v1: { memory: [['memory.limit_in_bytes', String(32 * MiB)], ['memory.memsw.limit_in_bytes', String(32 * MiB)]] },
      v2: { memory: [['memory.max', String(32 * MiB)], ['memory.swap.max', '0']] },
    },
    {
      name: '--memory-swap -1: swap unlimited',
      limits: { memoryBytes: 32 * MiB, memorySwapBytes: -1 },
      v1: { memory: [['memory.limit_in_bytes', String(32 * MiB)], ['memory.memsw.limit_in_bytes', '-1']] },
      v2: { memory: [['memory.max', String(32 * MiB)], ['memory.swap.max', 'max']] },
    },
    {
      name: 'memory without swap accounting: the memory limit only',
      limits: { memoryBytes: 16 * MiB },
      v1: { memory: [['memory.limit_in_bytes', String(16 * MiB)]] },
      v2: { memory: [['memory.max', String(16 * MiB)]] },
    },
    {
      name: '--cpus 0.5: half of each 100 ms period',
      limits: { cpus: 0.5 },
      v1: { cpu: [['cpu.cfs_period_us', '100000'], ['cpu.cfs_quota_us', '50000']] },
      v2: { cpu: [['cpu.max', '50000 100000']] },
    },
    {
      name: '--cpus below the kernel minimum quota: 1 ms',
      limits: { cpus: 0.001 },
      v1: { cpu: [['cpu.cfs_period_us', '100000'], ['cpu.cfs_quota_us', '1000']] },
      v2: { cpu: [['cpu.max', '1000 100000']] },
    },
    {
      name: '--pids-limit 20',
      limits: { pids: 20 },
      v1: { pids: [['pids.max', '20']] },
      v2: { pids: [['pids.max', '20']] },
    },
    { name: 'no limits: no files', limits: {}, v1: {}, v2: {} },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(Object.fromEntries(limitFiles(c.limits, 1))).toEqual(c.v1);
      expect(Object.fromEntries(limitFiles(c.limits, 2))).toEqual(c.v2);
    });
  }
});
