// One health check, run inside a running container like `docker exec`: nsenter joins its namespaces, the helper its
// cgroups, root, capabilities and user. Output is kept (bounded) for the health log; a timeout kills the check.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { stepCgroupsOf } from './cgroup.js';
import { ExecSetupError } from './errors.js';
import { builtFile, findTool } from './host-tools.js';
import { processStartTime } from './process-start-time.js';
import type { HealthExecSpec } from './health-exec-protocol.js';

export interface HealthProbeTarget {
  /** The container's PID 1 as the host sees it (ContainerHandle.pid). */
  readonly pid: number;
  /** The check's process: argv (CMD or the shell form already expanded), the container's env, cwd and user. */
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
}

export interface HealthProbeResult {
  /** The check's exit code; -1 when it timed out (as docker records it). */
  readonly exitCode: number;
  readonly output: string;
  readonly start: Date;
  readonly end: Date;
}

/** docker keeps this much of a check's output. */
export const MAX_OUTPUT = 4096;

/**
 * The helper as tsc compiled it (dist/exec/health-exec.js): a check runs every few seconds at most, so the few ms
 * its module loading costs over a bundle do not matter.
 */
function helperScriptPath(): string {
  return builtFile(path.join('exec', 'health-exec.js'), 'health-check helper');
}

/** Kills the helper's process group (the check and whatever it started; it is a session leader), then nsenter. */
async function killCheck(nsenterPid: number): Promise<void> {
  const children = await readFile(`/proc/${nsenterPid}/task/${nsenterPid}/children`, 'utf8').catch(() => '');
  for (const child of children.trim().split(/\s+/).filter((c) => c !== '')) {
    try {
      process.kill(-Number(child), 'SIGKILL');
    } catch (err) {
      // Not yet a group leader (still starting) or already gone: the parent-death signal takes it with nsenter.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
  try {
    process.kill(nsenterPid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** The container's PID 1 is gone: the container ended while a check was being planned. */
export class ContainerGoneError extends ExecSetupError {}

/** The container's start time and step cgroups, read from /proc while it runs. */
function containerFacts(pid: number): { startTime: string; cgroups: Map<string, string> } {
  try {
    return { startTime: processStartTime(pid), cgroups: stepCgroupsOf(pid) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') throw new ContainerGoneError(`the container (pid ${pid}) is no longer running`);
    throw err;
  }
}

/** Runs the check once in the container; resolves when every process of the check is gone. */
export async function probeContainer(target: HealthProbeTarget, timeoutMs: number, scratchDir: string): Promise<HealthProbeResult> {
  const start = new Date();
  const { startTime, cgroups } = containerFacts(target.pid);
  const spec: HealthExecSpec = {
    containerPid: target.pid,
    containerStartTime: startTime,
    cgroupProcs: [...new Set(cgroups.values())].map((dir) => path.join(dir, 'cgroup.procs')),
    devicesCgroup: cgroups.has('devices'),
    args: target.args,
    env: target.env,
    cwd: target.cwd,
    user: target.user,
  };
  const dir = await mkdtemp(path.join(scratchDir, 'health-'));
  try {
    const specPath = path.join(dir, 'spec.json');
    await writeFile(specPath, JSON.stringify(spec), { mode: 0o600 });
    const args = [
      // kiln dying takes nsenter with it, and nsenter dying the check (the helper's own parent-death signal).
      '--pdeathsig', 'KILL', '--', findTool('nsenter', 'run health checks'),
      '--target', String(target.pid), '--mount', '--uts', '--ipc', '--net', '--pid',
      // The host's root for now: the helper (host node) enters the container's root itself, after joining its cgroups.
      '--root=/', '--wd=/',
      '--', process.execPath, helperScriptPath(), specPath,
    ];
    // Loaded here, not on import: every build imports this folder's index, and a cached build spawns nothing.
    const { spawn } = await import('node:child_process');
    return await new Promise<HealthProbeResult>((resolve, reject) => {
      // fd 4 becomes the check's stderr (as in the init); docker keeps stdout and stderr together.
      const child = spawn(findTool('setpriv', 'run health checks'), args, { env: {}, stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'pipe'] });
      let output = '';
      let timedOut = false;
      const keep = (chunk: Buffer): void => {
        if (output.length < MAX_OUTPUT) output = (output + chunk.toString('utf8')).slice(0, MAX_OUTPUT);
      };
      for (const fd of [1, 2, 4]) (child.stdio[fd] as NodeJS.ReadableStream).on('data', keep);
      const timer = setTimeout(() => {
        timedOut = true;
        if (child.pid !== undefined) killCheck(child.pid).catch(reject);
      }, timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new ExecSetupError(`cannot start the health check: ${err.message}`, { cause: err }));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const end = new Date();
        if (timedOut) resolve({ exitCode: -1, output: `Health check exceeded timeout (${formatSeconds(timeoutMs)})`, start, end });
        else resolve({ exitCode: code ?? 128 + signalNumber(signal), output, start, end });
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : osConstants.signals[signal];
}

/** "30s", "1.5s", like Go prints a duration of whole or fractional seconds. */
function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : ms < 1000 ? `${ms}ms` : `${ms / 1000}s`;
}
