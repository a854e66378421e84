// Container mode of the init (PID 1 of fresh namespaces): build the root, pivot into it, drop privileges, exec the command.
import { closeSync, mkdirSync, openSync, readlinkSync, writeFileSync, writeSync } from 'node:fs';
import { groupsOf, resolveUser, UnknownUserError, InvalidUserSpecError } from './passwd.js';
import { CAP, DEFAULT_CAPS, dropBoundingCaps, lastCap, setNoNewPrivs } from './capabilities.js';
import { resolveCommand, withDefaultEnv } from './command-path.js';
import { ContainerStartError } from './errors.js';
import { execCommand } from './exec-command.js';
import type { CommandStdio } from './exec-command.js';
import { forwardSignals, runUnderInit } from './init-reaper.js';
import { handOverPty } from './pty.js';
import { FD } from './init-protocol.js';
import type { ContainerInitSpec } from './init-protocol.js';
import { sendStatus } from './init-status.js';
import { MNT_DETACH, MS, becomeUserForExec, chdir, dieWithParent, dup2, fchdir, mount, pivotRoot, sethostname, setgroups, setresgid, setresuid, umount2 } from './syscalls.js';
import { bringLoopbackUp } from './loopback.js';
import { maskKernelPaths } from './masked-paths.js';
import { mountOverlay } from './overlay-mount.js';
import { mountDev, mountProc, mountSys, moveKernelMounts, stageKernelMounts } from './system-mounts.js';
import type { StagedKernelMounts } from './system-mounts.js';
import { prepareMountpointLayer } from './mountpoint-layer.js';
import { bindEtcFiles, mountAll, plannedTargets } from './user-mounts.js';

/**
 * What an init may prepare while it waits for its spec: a sandboxed step's kernel mounts (see stageKernelMounts).
 * Undefined when staging failed; the step then mounts them itself, as an insecure step always does.
 */
export function prepareKernelMounts(stageDir: string): StagedKernelMounts | undefined {
  try {
    mount(null, '/', null, MS.REC | MS.PRIVATE, null);
    mkdirSync(stageDir, { mode: 0o700 });
    return stageKernelMounts(stageDir, maskKernelPaths);
  } catch (err) {
    // Not process.stderr: a cloned init (fork-server.ts) must not create streams on its parent's event loop.
    writeSync(FD.diag, `kiln init: staging kernel mounts failed, the step mounts them itself: ${(err as Error).message}\n`);
    return undefined;
  }
}

/**
 * Sets the container up and execs its command; a setup failure is thrown at once (not as a rejection), so that a
 * cloned init, which cannot return to an event loop, can catch it. Only `process.init` keeps running, as a promise.
 */
export function runContainerInit(spec: ContainerInitSpec, staged?: StagedKernelMounts): Promise<never> {
  // Joined only now, while the host's cgroupfs is still reachable: under a pids or memory limit Node could not start.
  for (const procsFile of spec.cgroupProcs) writeFileSync(procsFile, '0');
  // unshare --propagation private did this already; repeating it costs nothing and pivot_root depends on it.
  mount(null, '/', null, MS.REC | MS.PRIVATE, null);
  // The host's /proc is still mounted here, so /proc/self names PID 1 as the host sees it (for signal forwarding).
  const hostPid = Number(readlinkSync('/proc/self'));
  const capLast = lastCap();

  buildRoot(spec, spec.insecure ? undefined : staged);
  sethostname(spec.hostname);
  if (spec.network === 'none') bringLoopbackUp();
  pivotInto(spec.mergedDir);
  if (spec.readonlyRootfs) mount(null, '/', null, MS.BIND | MS.REMOUNT | MS.RDONLY, null);

  const user = resolveUserOrFail(spec.process.user);
  const env = withDefaultEnv(spec.process.env, user.home);
  enterCwd(spec.process.cwd);
  const command = resolveCommand(spec.process.args[0] ?? '', env);

  // The pty comes from the container's devpts, before the identity change (the slave is chowned to the user).
  const stdio: CommandStdio = spec.process.tty ? { kind: 'tty', slavePath: handOverPty(hostPid, spec.ttySize, user.uid) } : { kind: 'pipes' };
  // The builder always gives the init a stdin pipe (it is started before anyone knows); without input it is /dev/null, as in Docker.
  if (!spec.process.tty && !spec.stdin) redirectStdinToNull();
  if (!spec.insecure) {
    // With a devices cgroup denying raw devices, CAP_MKNOD is as harmless as in Docker; without one it is raw disk access.
    dropBoundingCaps(spec.devicesCgroup ? DEFAULT_CAPS : DEFAULT_CAPS.filter((cap) => cap !== CAP.MKNOD), capLast);
    setNoNewPrivs();
  }
  if (spec.process.init) {
    // glibc applies these to every thread of the init, so the init itself runs as the user (as tini does).
    setgroups(groupsOf(user));
    setresgid(user.gid);
    setresuid(user.uid);
  } else {
    // This thread execs the command next, and the command keeps only its credentials.
    becomeUserForExec(user.gid, groupsOf(user), user.uid);
  }
  // The identity change cleared the parent-death signal: armed again, so that a command run as another user still
  // dies with its parent (unshare, or the builder for a cloned init) rather than outlive it.
  dieWithParent();
  // Listening before 'ready': the builder forwards signals from then on, and the kernel drops those PID 1 has no handler for.
  const forwarder = spec.process.init ? forwardSignals() : undefined;
  sendStatus({ kind: 'ready', pid: hostPid });
  if (forwarder) return runUnderInit(forwarder, command, spec.process.args, env, stdio);
  return execCommand(command, spec.process.args, env, stdio);
}

/** Reports a container that could not start on the status pipe (a bug also with its stack); returns the exit status. */
export function reportStartFailure(err: unknown): number {
  const status = err instanceof ContainerStartError ? err.status : 125;
  if (!(err instanceof ContainerStartError)) writeSync(FD.diag, `kiln init: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  sendStatus({ kind: 'start-failed', status, message: err instanceof Error ? err.message : String(err) });
  return status;
}

function buildRoot(spec: ContainerInitSpec, staged: StagedKernelMounts | undefined): void {
  const root = spec.mergedDir;
  const { lowerDirs, upperDir, workDir } = spec.rootfs;
  const imageLowers = [...lowerDirs, spec.stubDir];
  // Without extra mounts the stub layer already holds every target; the probe costs a mount, so skip it then.
  const targets = spec.mounts.length > 0 ? plannedTargets(spec.mounts) : [];
  const withMountpoints = prepareMountpointLayer(imageLowers, spec.probeDir, spec.mountpointLayerDir, targets);
  const lowers = withMountpoints ? [...lowerDirs, spec.mountpointLayerDir, spec.stubDir] : imageLowers;
  mountOverlay(root, { lowerDirs: lowers, upper: { upperDir, workDir } }, false);
  if (staged !== undefined) {
    moveKernelMounts(staged, root);
  } else {
    const proc = mountProc(root);
    const dev = mountDev(root);
    const sys = mountSys(root, !spec.insecure);
    if (!spec.insecure) maskKernelPaths({ proc, sys }, `${dev}/null`);
  }
  bindEtcFiles(root, spec.etc);
  mountAll(root, spec.mounts, { emptyDir: spec.emptyDir, filesDir: spec.filesDir });
}

/** pivot_root(".", ".") stacks the old root on the new one; detaching it leaves no host path reachable. */
function pivotInto(newRoot: string): void {
  const oldRoot = openSync('/', 'r');
  chdir(newRoot);
  pivotRoot('.', '.');
  fchdir(oldRoot);
  mount(null, '.', null, MS.SLAVE | MS.REC, null);
  umount2('.', MNT_DETACH);
  chdir('/');
  closeSync(oldRoot);
}

function resolveUserOrFail(spec: string): ReturnType<typeof resolveUser> {
  try {
    return resolveUser('/', spec);
  } catch (err) {
    if (err instanceof UnknownUserError || err instanceof InvalidUserSpecError) throw new ContainerStartError(err.message, 125);
    throw err;
  }
}

function redirectStdinToNull(): void {
  const devNull = openSync('/dev/null', 'r');
  dup2(devNull, 0);
  closeSync(devNull);
}


/** A missing working directory is created (owned by root, as runc does). */
function enterCwd(cwd: string): void {
  const dir = cwd === '' ? '/' : cwd;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chdir(dir);
  } catch (err) {
    throw new ContainerStartError(`cannot enter working directory ${dir}: ${(err as Error).message}`, 125);
  }
}
