// Entry of the health-check helper: `nsenter -t PID -m -u -i -p -n --root=/ -- node health-exec.js SPEC`.
// nsenter has put it in the container's namespaces with the host's root still reachable; it joins the container's
// cgroups, enters the container's root, drops to the container's capabilities and user, and execs the check.
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { libcFunction, lastErrno, SysCallError } from '../sys/libc.js';
import { CAP, DEFAULT_CAPS, dropBoundingCaps, lastCap, setNoNewPrivs } from './capabilities.js';
import { resolveCommand, withDefaultEnv } from './command-path.js';
import { ContainerStartError } from './errors.js';
import { execCommand } from './exec-command.js';
import { HEALTH_EXEC_NOT_RUN } from './health-exec-protocol.js';
import type { HealthExecSpec } from './health-exec-protocol.js';
import { groupsOf, resolveUser } from './passwd.js';
import { processStartTime } from './process-start-time.js';
import { chdir, dieWithParent, prctl, setgroups, setresgid, setresuid } from './syscalls.js';

// Until the exec this process has the host's root and every capability: Node's inspector (SIGUSR1) must never open,
// and nothing in the container may read its memory or /proc entries (not dumpable).
process.on('SIGUSR1', () => undefined);
const PR_SET_DUMPABLE = 4;
prctl(PR_SET_DUMPABLE, 0);

function call(name: string, subject: string, ret: number): void {
  if (ret < 0) throw new SysCallError(name, subject, lastErrno());
}

/** The container's PID 1 is the one planned and this process shares its mount and pid namespaces. */
function isPlannedContainer(spec: HealthExecSpec): boolean {
  try {
    if (processStartTime(spec.containerPid) !== spec.containerStartTime) return false;
    return ['mnt', 'pid_for_children'].every((ns) => readlinkSync(`/proc/self/ns/${ns}`) === readlinkSync(`/proc/${spec.containerPid}/ns/${ns === 'pid_for_children' ? 'pid' : ns}`));
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const specPath = process.argv[2];
  if (specPath === undefined) throw new Error('usage: health-exec.js <spec.json>');
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as HealthExecSpec;
  if (!isPlannedContainer(spec)) {
    process.stderr.write('kiln: the container is no longer running\n');
    return HEALTH_EXEC_NOT_RUN;
  }
  for (const procs of spec.cgroupProcs) writeFileSync(procs, '0');
  const capLast = lastCap();
  // Its own session: on a timeout kiln kills the check's whole process group.
  call('setsid', '', libcFunction('int setsid()')() as number);
  const root = `/proc/${spec.containerPid}/root`;
  call('chroot', root, libcFunction('int chroot(const char *path)')(root) as number);
  chdir('/');
  const user = resolveUser('/', spec.user);
  const env = withDefaultEnv(spec.env, user.home);
  try {
    chdir(spec.cwd === '' ? '/' : spec.cwd);
  } catch (err) {
    throw new ContainerStartError(`cannot enter working directory ${spec.cwd}: ${(err as Error).message}`, 126);
  }
  const command = resolveCommand(spec.args[0] ?? '', env);
  dropBoundingCaps(spec.devicesCgroup ? DEFAULT_CAPS : DEFAULT_CAPS.filter((cap) => cap !== CAP.MKNOD), capLast);
  setNoNewPrivs();
  setgroups(groupsOf(user));
  setresgid(user.gid);
  setresuid(user.uid);
  // Set last: a change of credentials clears it. The parent is nsenter, which kiln kills on a timeout.
  dieWithParent();
  if (process.ppid === 1) return HEALTH_EXEC_NOT_RUN;
  return execCommand(command, spec.args, env, { kind: 'pipes' });
}

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = err instanceof ContainerStartError ? err.status : HEALTH_EXEC_NOT_RUN;
}
