// The system calls the container init makes, bound through the shared libc loader; each throws SysCallError on failure.
import { SysCallError, lastErrno, libcFunction } from '../sys/libc.js';

type Fn = (...args: unknown[]) => number;
const declarations: (() => void)[] = [];
/** Declared on first call, or all at once by declareAllSyscalls while an init started ahead waits for its step. */
const bind = (decl: string): Fn => {
  let fn: Fn | undefined;
  const declare = (): Fn => (fn ??= libcFunction(decl) as unknown as Fn);
  declarations.push(declare);
  return (...args) => declare()(...args);
};

/** Declares every binding now: an init waiting for its spec pays koffi's cost before the step's clock starts. */
export function declareAllSyscalls(): void {
  for (const declare of declarations) declare();
}

const c = {
  mount: bind('int mount(const char *src, const char *tgt, const char *fstype, unsigned long flags, const char *data)'),
  umount2: bind('int umount2(const char *tgt, int flags)'),
  pivot_root: bind('int pivot_root(const char *new_root, const char *put_old)'),
  chdir: bind('int chdir(const char *path)'),
  fchdir: bind('int fchdir(int fd)'),
  sethostname: bind('int sethostname(const char *name, size_t len)'),
  setgroups: bind('int setgroups(size_t n, const uint32_t *list)'),
  setresgid: bind('int setresgid(uint32_t r, uint32_t e, uint32_t s)'),
  setresuid: bind('int setresuid(uint32_t r, uint32_t e, uint32_t s)'),
  syscall3: bind('long syscall(long number, long a1, long a2, long a3)'),
  syscallGroups: bind('long syscall(long number, size_t n, const uint32_t *list)'),
  // prctl, fcntl and ioctl are variadic in C; on the Linux ABIs Node runs on, passing integer/pointer
  // arguments through a fixed prototype is identical and avoids koffi's (type, value) pairs.
  prctl: bind('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)'),
  fcntl: bind('int fcntl(int fd, int cmd, long arg)'),
  ioctl: bind('int ioctl(int fd, unsigned long req, void *arg)'),
  socket: bind('int socket(int domain, int type, int protocol)'),
  close: bind('int close(int fd)'),
  dup2: bind('int dup2(int oldfd, int newfd)'),
  close_range: bind('int close_range(unsigned int first, unsigned int last, int flags)'),
  signal: bind('void *signal(int sig, void *handler)'),
  sigprocmask: bind('int sigprocmask(int how, const void *set, void *oldset)'),
  execve: bind('int execve(const char *path, const char **argv, const char **envp)'),
  setsid: bind('int setsid()'),
  waitpid: bind('int waitpid(int pid, int *status, int options)'),
  posix_spawn: bind('int posix_spawn(int *pid, const char *path, void *file_actions, void *attrp, const char **argv, const char **envp)'),
  posix_spawnattr_init: bind('int posix_spawnattr_init(void *attr)'),
  posix_spawnattr_setflags: bind('int posix_spawnattr_setflags(void *attr, short flags)'),
  posix_spawnattr_setsigdefault: bind('int posix_spawnattr_setsigdefault(void *attr, const void *set)'),
  posix_spawnattr_setsigmask: bind('int posix_spawnattr_setsigmask(void *attr, const void *set)'),
  posix_spawn_file_actions_init: bind('int posix_spawn_file_actions_init(void *fa)'),
  posix_spawn_file_actions_adddup2: bind('int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)'),
  posix_spawn_file_actions_addopen: bind('int posix_spawn_file_actions_addopen(void *fa, int fd, const char *path, int oflag, uint32_t mode)'),
  posix_spawn_file_actions_addchdir_np: bind('int posix_spawn_file_actions_addchdir_np(void *fa, const char *path)'),
  posix_spawn_file_actions_destroy: bind('int posix_spawn_file_actions_destroy(void *fa)'),
  posix_spawnattr_destroy: bind('int posix_spawnattr_destroy(void *attr)'),
  pipe2: bind('int pipe2(int *fds, int flags)'),
  fsopen: bind('int fsopen(const char *fsname, unsigned int flags)'),
  fsconfig: bind('int fsconfig(int fd, unsigned int cmd, const char *key, const char *value, int aux)'),
  fsmount: bind('int fsmount(int fd, unsigned int flags, unsigned int attr_flags)'),
  move_mount: bind('int move_mount(int from_dfd, const char *from_path, int to_dfd, const char *to_path, unsigned int flags)'),
  madvise: bind('int madvise(uintptr_t addr, size_t len, int advice)'),
  syscall5: bind('long syscall(long number, long a1, long a2, long a3, long a4, long a5)'),
  pidfd_open: bind('int pidfd_open(int pid, unsigned int flags)'),
  pidfd_getfd: bind('int pidfd_getfd(int pidfd, int targetfd, unsigned int flags)'),
  exit: bind('void _exit(int status)'),
};

/** Throws SysCallError (syscall name, subject, errno) when a call returned -1. */
function check(syscall: string, subject: string, ret: number): number {
  if (ret >= 0) return ret;
  throw new SysCallError(syscall, subject, lastErrno());
}

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  REMOUNT: 0x20,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  STRICTATIME: 0x1000000,
} as const;

export const MNT_DETACH = 2;

export function mount(src: string | null, target: string, fstype: string | null, flags: number, data: string | null): void {
  check(`mount ${fstype ?? 'bind'}`, target, c.mount(src, target, fstype, flags, data));
}

export function umount2(target: string, flags: number): void {
  check('umount2', target, c.umount2(target, flags));
}

export function pivotRoot(newRoot: string, putOld: string): void {
  check('pivot_root', newRoot, c.pivot_root(newRoot, putOld));
}

export function chdir(dir: string): void {
  check('chdir', dir, c.chdir(dir));
}

export function fchdir(fd: number): void {
  check('fchdir', `fd ${fd}`, c.fchdir(fd));
}

export function sethostname(name: string): void {
  check('sethostname', name, c.sethostname(name, Buffer.byteLength(name)));
}

export function setgroups(gids: readonly number[]): void {
  check('setgroups', gids.join(','), c.setgroups(gids.length, gids.length === 0 ? null : [...gids]));
}

export function setresgid(gid: number): void {
  check('setresgid', String(gid), c.setresgid(gid, gid, gid));
}

export function setresuid(uid: number): void {
  check('setresuid', String(uid), c.setresuid(uid, uid, uid));
}

/** System call numbers of the raw identity calls, for the architectures Node ships Linux builds for with glibc. */
const IDENTITY_SYSCALLS: Readonly<Record<string, { readonly setgroups: number; readonly setresgid: number; readonly setresuid: number }>> = {
  x64: { setgroups: 116, setresgid: 119, setresuid: 117 },
  arm64: { setgroups: 159, setresgid: 149, setresuid: 147 },
};

/**
 * setgroups, setresgid and setresuid for the calling thread only: the raw system calls, where glibc's wrappers stop
 * every thread of the process to apply them to all (~100 µs each for Node's threads when idle, milliseconds on a busy
 * machine). Only for a thread about to execve, which keeps just the caller's credentials. Elsewhere glibc's.
 */
export function becomeUserForExec(gid: number, groups: readonly number[], uid: number): void {
  const numbers = IDENTITY_SYSCALLS[process.arch];
  if (numbers === undefined) {
    setgroups(groups);
    setresgid(gid);
    setresuid(uid);
    return;
  }
  const raw = (name: string, subject: string, ret: number): void => {
    if (ret < 0) throw new SysCallError(name, subject, lastErrno());
  };
  raw('setgroups', groups.join(','), c.syscallGroups(numbers.setgroups, groups.length, groups.length === 0 ? null : [...groups]));
  raw('setresgid', String(gid), c.syscall3(numbers.setresgid, gid, gid, gid));
  raw('setresuid', String(uid), c.syscall3(numbers.setresuid, uid, uid, uid));
}

export function prctl(option: number, a2: number, a3 = 0, a4 = 0, a5 = 0): number {
  return check('prctl', String(option), c.prctl(option, a2, a3, a4, a5));
}

const PR_SET_PDEATHSIG = 1;
const SIGKILL = 9;

/**
 * The calling process gets SIGKILL when its parent (the thread that started it) dies. A change of effective uid or
 * gid clears this (commit_creds), so a process that switches user must call it again.
 */
export function dieWithParent(): void {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
}

export const F = { DUPFD_CLOEXEC: 1030, GETFD: 1, SETFD: 2, GETFL: 3, SETFL: 4 } as const;
export const O_NONBLOCK = 0o4000;

export function fcntl(fd: number, cmd: number, arg: number): number {
  return check('fcntl', `fd ${fd}`, c.fcntl(fd, cmd, arg));
}

export function ioctl(fd: number, req: number, arg: Buffer | null): void {
  check('ioctl', `0x${req.toString(16)}`, c.ioctl(fd, req, arg));
}

export function socket(domain: number, type: number, protocol: number): number {
  return check('socket', '', c.socket(domain, type, protocol));
}

export function close(fd: number): void {
  check('close', `fd ${fd}`, c.close(fd));
}

export function dup2(oldfd: number, newfd: number): void {
  check('dup2', `fd ${oldfd} to ${newfd}`, c.dup2(oldfd, newfd));
}

const CLOSE_RANGE_CLOEXEC = 4;

/** Marks every fd from `first` up close-on-exec (close_range(2) with CLOSE_RANGE_CLOEXEC). */
export function cloexecFrom(first: number): void {
  check('close_range', `fd ${first}..`, c.close_range(first, 0xffffffff, CLOSE_RANGE_CLOEXEC));
}

/** Resets a signal to SIG_DFL (Node ignores SIGPIPE and SIGXFSZ, and SIG_IGN survives execve). */
export function resetSignal(sig: number): void {
  c.signal(sig, null);
}

/** Blocks every signal that can be blocked, for the calling thread. */
export function blockAllSignals(): void {
  const SIG_SETMASK = 2;
  check('sigprocmask', '', c.sigprocmask(SIG_SETMASK, Buffer.alloc(128, 0xff), null));
}

/** Unblocks every signal of the calling thread (the mask survives execve). */
export function clearSignalMask(): void {
  const SIG_SETMASK = 2;
  check('sigprocmask', '', c.sigprocmask(SIG_SETMASK, Buffer.alloc(128), null));
}

/** Replaces the process image; only returns by throwing. */
export function execve(path: string, argv: readonly string[], envp: readonly string[]): never {
  c.execve(path, [...argv, null], [...envp, null]);
  throw new SysCallError('execve', path, lastErrno());
}

const FSCONFIG_SET_FLAG = 0;
const FSCONFIG_SET_STRING = 1;
const FSCONFIG_CMD_CREATE = 6;
const FSOPEN_CLOEXEC = 1;
const FSMOUNT_CLOEXEC = 1;
const MOVE_MOUNT_F_EMPTY_PATH = 4;
const AT_FDCWD = -100;
export const MOUNT_ATTR_RDONLY = 1;

export type FsParam = readonly [key: string, value: string | null];

/**
 * Mounts a filesystem with the new mount API (fsopen/fsconfig/fsmount/move_mount): each parameter is
 * one call, so option lists longer than a page (many overlay lowers via "lowerdir+") work.
 */
export function fsMount(fstype: string, params: readonly FsParam[], attrFlags: number, target: string): void {
  const fsfd = check('fsopen', fstype, c.fsopen(fstype, FSOPEN_CLOEXEC));
  try {
    for (const [key, value] of params) {
      const ret = value === null ? c.fsconfig(fsfd, FSCONFIG_SET_FLAG, key, null, 0) : c.fsconfig(fsfd, FSCONFIG_SET_STRING, key, value, 0);
      check('fsconfig', `${fstype} ${key}${value === null ? '' : `=${value}`}`, ret);
    }
    check('fsconfig', `${fstype} create`, c.fsconfig(fsfd, FSCONFIG_CMD_CREATE, null, null, 0));
    const mfd = check('fsmount', fstype, c.fsmount(fsfd, FSMOUNT_CLOEXEC, attrFlags));
    try {
      check('move_mount', `${fstype} to ${target}`, c.move_mount(mfd, '', AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH));
    } finally {
      c.close(mfd);
    }
  } finally {
    c.close(fsfd);
  }
}

export function setsid(): void {
  check('setsid', '', c.setsid());
}

const WNOHANG = 1;

/** Reaps one exited child without blocking: its pid and raw wait status, or null when none is ready (or none is left). */
export function waitAnyChild(): { pid: number; status: number } | null {
  const status = new Int32Array(1);
  const pid = c.waitpid(-1, status, WNOHANG);
  if (pid <= 0) return null;
  return { pid, status: status[0] as number };
}

/** Reaps `pid` if it has exited, without blocking: its raw wait status, or null while it runs. */
export function waitChild(pid: number): number | null {
  const status = new Int32Array(1);
  const ret = check('waitpid', `pid ${pid}`, c.waitpid(pid, status, WNOHANG));
  return ret === 0 ? null : (status[0] as number);
}

const O_CLOEXEC = 0o2000000;

/** A pipe, both ends close-on-exec: [read end, write end]. */
export function pipeCloexec(): [number, number] {
  const fds = new Int32Array(2);
  check('pipe2', '', c.pipe2(fds, O_CLOEXEC));
  return [fds[0] as number, fds[1] as number];
}

/** What the child of spawnProcess starts with. */
export interface SpawnOptions {
  /** dup2(from, to) in the child, in order. */
  readonly dup2: readonly (readonly [from: number, to: number])[];
  /** Opened O_RDWR as fd 0 in the child after setsid (so a terminal becomes its controlling tty). */
  readonly openAsStdin?: string;
  readonly setsid: boolean;
  /** The child's working directory. */
  readonly cwd?: string;
}

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const O_RDWR = 2;

/**
 * posix_spawn(3): glibc forks with CLONE_VM|CLONE_VFORK, which is safe from a multi-threaded process like Node.
 * Every signal is reset to its default and unblocked in the child.
 */
export function spawnProcess(path: string, argv: readonly string[], envp: readonly string[], opts: SpawnOptions): number {
  // glibc's posix_spawnattr_t (336 bytes) and posix_spawn_file_actions_t (80 bytes), with room to spare.
  const attr = Buffer.alloc(512);
  const actions = Buffer.alloc(256);
  const spawnCheck = (what: string, err: number): void => {
    if (err !== 0) throw new SysCallError(what, path, err);
  };
  spawnCheck('posix_spawnattr_init', c.posix_spawnattr_init(attr));
  try {
    spawnCheck('posix_spawn_file_actions_init', c.posix_spawn_file_actions_init(actions));
    try {
      const flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (opts.setsid ? POSIX_SPAWN_SETSID : 0);
      spawnCheck('posix_spawnattr_setflags', c.posix_spawnattr_setflags(attr, flags));
      spawnCheck('posix_spawnattr_setsigdefault', c.posix_spawnattr_setsigdefault(attr, Buffer.alloc(128, 0xff)));
      spawnCheck('posix_spawnattr_setsigmask', c.posix_spawnattr_setsigmask(attr, Buffer.alloc(128)));
      if (opts.openAsStdin !== undefined) {
        spawnCheck('posix_spawn_file_actions_addopen', c.posix_spawn_file_actions_addopen(actions, 0, opts.openAsStdin, O_RDWR, 0));
      }
      for (const [from, to] of opts.dup2) spawnCheck('posix_spawn_file_actions_adddup2', c.posix_spawn_file_actions_adddup2(actions, from, to));
      if (opts.cwd !== undefined) spawnCheck('posix_spawn_file_actions_addchdir_np', c.posix_spawn_file_actions_addchdir_np(actions, opts.cwd));
      const pid = new Int32Array(1);
      spawnCheck('posix_spawn', c.posix_spawn(pid, path, actions, attr, [...argv, null], [...envp, null]));
      return pid[0] as number;
    } finally {
      // The actions list is malloc'd by glibc: a builder spawns once per step.
      c.posix_spawn_file_actions_destroy(actions);
    }
  } finally {
    c.posix_spawnattr_destroy(attr);
  }
}

export const MADV_DOFORK = 11;

/** madvise(2); false (errno left unread) when the kernel refused the advice for that range. */
export function madvise(address: number, length: number, advice: number): boolean {
  return c.madvise(address, length, advice) === 0;
}

/** clone(2)'s system call number, for the architectures Node ships Linux builds for with glibc. */
const CLONE_SYSCALL: Readonly<Record<string, number>> = { x64: 56, arm64: 220 };

export const CLONE = {
  NEWNS: 0x20000,
  PARENT: 0x8000,
  NEWUTS: 0x4000000,
  NEWIPC: 0x8000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

/** True when cloneProcess can work on this architecture. */
export function canCloneProcess(): boolean {
  return CLONE_SYSCALL[process.arch] !== undefined;
}

/**
 * The raw clone(2) system call used like fork(2) (no new stack, no CLONE_VM): returns the child's pid in the caller
 * and 0 in the child, which goes on from here with a copy of the caller's memory and only the calling thread.
 * glibc's fork cannot create namespaces, and its clone wrapper wants a C function to run.
 */
export function cloneProcess(flags: number): number {
  const nr = CLONE_SYSCALL[process.arch];
  if (nr === undefined) throw new Error(`cloning a process is not supported on ${process.arch}`);
  return check('clone', `flags 0x${flags.toString(16)}`, c.syscall5(nr, flags, 0, 0, 0, 0));
}

/** pidfd_open(2): a file descriptor naming process `pid` (close-on-exec). */
export function pidfdOpen(pid: number): number {
  return check('pidfd_open', String(pid), c.pidfd_open(pid, 0));
}

/** pidfd_getfd(2): a copy (close-on-exec) of fd `fd` of the process `pidfd` names. */
export function pidfdGetfd(pidfd: number, fd: number): number {
  return check('pidfd_getfd', `fd ${fd}`, c.pidfd_getfd(pidfd, fd, 0));
}

/** _exit(2): ends the process now, without Node's exit path (which would wait for threads a cloned child lacks). */
export function exitNow(status: number): never {
  c.exit(status);
  throw new Error('_exit returned');
}
