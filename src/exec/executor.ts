// The namespace executor: RUN steps and `kiln run` (container mode) and COPY/ADD file ops (file mode) through one init.
import { constants as osConstants } from 'node:os';
import { ensureBaseLayers } from './base-layers.js';
import { ContainerStartError, ExecSetupError, FileOpError } from './errors.js';
import type { ContainerInitSpec, FileInitSpec, InitFileSource } from './init-protocol.js';
import { InitPool } from './init-pool.js';
import type { StepInit } from './init-pool.js';
import { driveInit, stopInit } from './spawn-init.js';
import type { InitOutcome } from './spawn-init.js';
import { createSourceDirs, writeEtcFiles, writeSpec } from './step-dir.js';
import type { ClosableExecutor, ExecIO, ExitStatus, FileOpSpec, RunSpec } from './types.js';

export interface ExecutorOptions {
  /** A directory under KILN_ROOT for per-step mount points and files (e.g. `<KILN_ROOT>/exec`). */
  readonly stateDir: string;
  /**
   * Keep inits started ahead for the next steps (a build's many steps; see init-pool.ts); off for a single
   * container (`kiln run`), where a spare would only be started to be killed.
   */
  readonly prewarm?: boolean;
}

/**
 * The namespaces of every init. File ops get uts and ipc namespaces they do not need so that they share the spare
 * init of host-network RUN steps (two more namespaces cost far less than a Node start-up).
 */
const BASE_NAMESPACES = ['--mount', '--pid', '--fork', '--uts', '--ipc'];
const INIT_FLAGS = ['--kill-child', '--propagation', 'private'];

/** util-linux 2.38's unshare exits 1 with this line when its child dies of SIGKILL, instead of re-raising it. */
const UNSHARE_SIGKILL_BUG = 'sigprocmask unblock failed';

export function createExecutor(opts: ExecutorOptions): ClosableExecutor {
  const pool = new InitPool(opts.stateDir, opts.prewarm ?? false);
  return {
    run: (spec, io, signal) => runContainer(opts.stateDir, pool, spec, io, signal),
    runFileOps: (spec, signal) => runFileOps(opts.stateDir, pool, spec, signal),
    close: () => pool.close(),
  };
}

async function runContainer(stateDir: string, pool: InitPool, spec: RunSpec, io: ExecIO, signal: AbortSignal): Promise<ExitStatus> {
  signal.throwIfAborted();
  const base = await ensureBaseLayers(stateDir);
  const namespaces = [...BASE_NAMESPACES, ...(spec.network === 'none' ? ['--net'] : []), ...INIT_FLAGS];
  const insecure = spec.security === 'insecure';
  const cgroupOptions = { devices: !insecure, ...(spec.limits ? { limits: spec.limits } : {}) };
  // A cloned init can only exec the command itself: `--init` keeps a Node init as PID 1, and a terminal needs its pty.
  const clonable = spec.process.init !== true && spec.process.tty !== true;
  const taken = clonable ? await pool.takeForContainer(namespaces, cgroupOptions) : await pool.take(namespaces, cgroupOptions);
  const { init, step, cgroup } = taken;
  try {
    const initSpec: ContainerInitSpec = {
      mode: 'container',
      rootfs: spec.rootfs,
      stubDir: base.stubDir,
      emptyDir: base.emptyDir,
      mergedDir: step.mergedDir,
      filesDir: step.filesDir,
      probeDir: step.probeDir,
      mountpointLayerDir: step.mountpointLayerDir,
      process: spec.process,
      hostname: spec.hostname,
      network: spec.network,
      mounts: spec.mounts,
      readonlyRootfs: spec.readonlyRootfs ?? false,
      stdin: io.stdin !== undefined,
      insecure,
      etc: await writeEtcFiles(step, spec.hostname),
      cgroupProcs: cgroup.limitProcsFiles,
      devicesCgroup: cgroup.devices,
      ...(io.ttySize ? { ttySize: io.ttySize } : {}),
    };
    writeSpec(step, initSpec);
    const outcome = await driveInit(init, {
      specPath: step.specPath,
      ...(io.stdin ? { stdin: io.stdin } : {}),
      stdout: io.stdout,
      stderr: io.stderr,
      signal,
      tty: spec.process.tty === true,
      onStart: io.onStart,
    });
    return containerStatus(outcome, signal);
  } finally {
    await endStep(pool, taken);
  }
}

function containerStatus(outcome: InitOutcome, signal: AbortSignal): ExitStatus {
  if (outcome.aborted) throw signal.reason;
  for (const m of outcome.messages) {
    if (m.kind === 'start-failed') throw new ContainerStartError(m.message, m.status);
  }
  if (!outcome.messages.some((m) => m.kind === 'ready')) {
    throw new ExecSetupError(`the container init failed before starting the command (${describeEnd(outcome)}): ${outcome.diag.trim() || 'no diagnostics'}`);
  }
  if (outcome.signal !== null) {
    const n = osConstants.signals[outcome.signal];
    return { code: 128 + n, signal: outcome.signal };
  }
  if (outcome.code === 1 && outcome.diag.includes(UNSHARE_SIGKILL_BUG)) return { code: 128 + osConstants.signals.SIGKILL, signal: 'SIGKILL' };
  return { code: outcome.code ?? 0 };
}

function describeEnd(outcome: InitOutcome): string {
  return outcome.signal !== null ? `killed by ${outcome.signal}` : `exit status ${outcome.code}`;
}

async function runFileOps(stateDir: string, pool: InitPool, spec: FileOpSpec, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  const base = await ensureBaseLayers(stateDir);
  const taken = await pool.take([...BASE_NAMESPACES, ...INIT_FLAGS], { devices: true });
  const { init, step } = taken;
  try {
    const mountDirs = await createSourceDirs(step, spec.sources.length);
    const sources = spec.sources.map((s, i): InitFileSource | null => {
      const mountDir = mountDirs[i] as string;
      return s === undefined ? null : { ...s, mountDir };
    });
    const initSpec: FileInitSpec = {
      mode: 'file',
      rootfs: spec.rootfs,
      stubDir: base.stubDir,
      emptyDir: base.emptyDir,
      mergedDir: step.mergedDir,
      sources,
      actions: spec.actions,
    };
    writeSpec(step, initSpec);
    const outcome = await driveInit(init, { specPath: step.specPath, signal });
    if (outcome.aborted) throw signal.reason;
    const failed = outcome.messages.find((m) => m.kind === 'file-failed');
    if (failed !== undefined && failed.kind === 'file-failed') throw new FileOpError(failed.message, failed.name);
    if (outcome.code !== 0) {
      throw new ExecSetupError(`the file-op init failed (${describeEnd(outcome)}): ${outcome.diag.trim() || 'no diagnostics'}`);
    }
  } finally {
    await endStep(pool, taken);
  }
}

/** Settles once every process of the step is gone (the executor's contract); its cgroups and directory go after. */
async function endStep(pool: InitPool, taken: StepInit): Promise<void> {
  try {
    // Set up but never driven (a failure on the way): the init still waits for its spec.
    if (!taken.init.ended()) await stopInit(taken.init);
    await taken.cgroup.waitEmpty();
  } finally {
    await pool.finish(taken);
  }
}
