// Where the cgroup hierarchies are mounted, and which of them serves each controller (v1 first, then cgroup2).

/** A mounted cgroup hierarchy: where it is, and the cgroup path (in that hierarchy) that the mount shows at its top. */
export interface CgroupMount {
  readonly mountPoint: string;
  readonly root: string;
}

export interface CgroupMounts {
  /** v1 hierarchies by controller (a hierarchy mounted with "cpu,cpuacct" is listed under both). */
  readonly v1: ReadonlyMap<string, CgroupMount>;
  /** The cgroup2 (unified) hierarchy, when one is mounted. */
  readonly v2: CgroupMount | undefined;
}

/** mountinfo writes space, tab, newline and backslash in paths as octal escapes (\040). */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * The cgroup mounts listed in a /proc/<pid>/mountinfo text. Of several cgroup2 mounts the first showing the whole
 * hierarchy (root "/") is taken: kiln's cgroups go right under that hierarchy's top.
 */
export function parseCgroupMounts(mountinfo: string): CgroupMounts {
  const v1 = new Map<string, CgroupMount>();
  let v2: CgroupMount | undefined;
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (pre === undefined || post === undefined) continue;
    const [fstype, , superOpts] = post.split(' ');
    const fields = pre.split(' ');
    const root = fields[3];
    const mountPoint = fields[4];
    if (root === undefined || mountPoint === undefined) continue;
    const mount = { mountPoint: unescapeMountPath(mountPoint), root: unescapeMountPath(root) };
    if (fstype === 'cgroup' && superOpts !== undefined) {
      for (const opt of superOpts.split(',')) if (!v1.has(opt)) v1.set(opt, mount);
    } else if (fstype === 'cgroup2' && v2 === undefined && mount.root === '/') {
      v2 = mount;
    }
  }
  return { v1, v2 };
}

/** The controllers a cgroup2 directory offers its children (the text of its cgroup.controllers). */
export function parseControllerList(text: string): ReadonlySet<string> {
  return new Set(text.split(/\s+/).filter((c) => c !== ''));
}

/**
 * The hierarchy kiln uses for `controller`: v1 wherever it is mounted as v1 (a hybrid host keeps most controllers
 * there), else cgroup2 when its top lists the controller in cgroup.controllers, else none.
 */
export function hierarchyOf(controller: string, mounts: CgroupMounts, v2Controllers: ReadonlySet<string>): 1 | 2 | undefined {
  if (mounts.v1.has(controller)) return 1;
  if (mounts.v2 !== undefined && v2Controllers.has(controller)) return 2;
  return undefined;
}

export interface ProcCgroups {
  /** The v1 cgroup path of each controller. */
  readonly v1: ReadonlyMap<string, string>;
  /** The cgroup2 path (the "0::" line), when the process shows one. */
  readonly v2: string | undefined;
}

/** The cgroups of a process from its /proc/<pid>/cgroup text ("id:controllers:path" lines; "0::path" is cgroup2). */
export function parseProcCgroup(text: string): ProcCgroups {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const cgPath = line.slice(second + 1);
    if (controllers === '') {
      if (line.slice(0, first) === '0') v2 = cgPath;
      continue;
    }
    for (const controller of controllers.split(',')) v1.set(controller, cgPath);
  }
  return { v1, v2 };
}
