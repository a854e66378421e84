// A step's private host directory: mount points, the per-step /etc files and the init's spec.
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { EtcFiles } from './init-protocol.js';

export interface StepDir {
  readonly dir: string;
  /** `<pid>-<random>`: the owner pid lets start-up GC tell a crashed builder's dirs from live ones. */
  readonly id: string;
  readonly mergedDir: string;
  readonly filesDir: string;
  readonly probeDir: string;
  readonly mountpointLayerDir: string;
  readonly specPath: string;
}

export const STEPS_SUBDIR = 'steps';

// A step directory holds only the executor's own few entries. It is made with synchronous calls, on the step's
// critical path, where a thread-pool round trip per directory cost more than the call. It is removed in the
// background by the thread pool: a synchronous removal there blocked the builder for ~2 ms per step.

export async function createStepDir(stateDir: string): Promise<StepDir> {
  const id = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const dir = path.join(stateDir, STEPS_SUBDIR, id);
  mkdirSync(path.join(dir, 'merged'), { recursive: true, mode: 0o700 });
  for (const sub of ['files', 'probe', 'mountpoints']) mkdirSync(path.join(dir, sub), { mode: sub === 'mountpoints' ? 0o755 : 0o700 });
  return {
    dir,
    id,
    mergedDir: path.join(dir, 'merged'),
    filesDir: path.join(dir, 'files'),
    probeDir: path.join(dir, 'probe'),
    mountpointLayerDir: path.join(dir, 'mountpoints'),
    specPath: path.join(dir, 'spec.json'),
  };
}

/** Empty per-source mount points for file ops. */
export async function createSourceDirs(step: StepDir, count: number): Promise<string[]> {
  const dirs: string[] = [];
  for (let i = 0; i < count; i++) {
    const d = path.join(step.dir, `src${i}`);
    mkdirSync(d, { mode: 0o700 });
    dirs.push(d);
  }
  return dirs;
}

let hostResolvConf: Promise<string> | undefined;

/** The host's resolver config, read once: with host networking the container uses the same servers. */
function readHostResolvConf(): Promise<string> {
  hostResolvConf ??= readFile('/etc/resolv.conf', 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  return hostResolvConf;
}

// The writes below are synchronous on purpose: a few hundred bytes each, on every step's critical path, where a
// thread-pool round trip per call cost more than the write.

/** Writes the files bind-mounted read-only over /etc/hosts, /etc/resolv.conf and /etc/hostname. */
export async function writeEtcFiles(step: StepDir, hostname: string): Promise<EtcFiles> {
  const resolvConf = await readHostResolvConf();
  const etc = path.join(step.dir, 'etc');
  mkdirSync(etc, { mode: 0o755 });
  const files: EtcFiles = { hosts: path.join(etc, 'hosts'), resolvConf: path.join(etc, 'resolv.conf'), hostname: path.join(etc, 'hostname') };
  writeFileSync(files.hosts, `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`, { mode: 0o644 });
  writeFileSync(files.resolvConf, resolvConf, { mode: 0o644 });
  writeFileSync(files.hostname, `${hostname}\n`, { mode: 0o644 });
  return files;
}

export function writeSpec(step: StepDir, spec: unknown): void {
  writeFileSync(step.specPath, JSON.stringify(spec), { mode: 0o600 });
}

/** Nothing is mounted on the host side (all mounts lived in the step's own mount namespace), so a plain rm is enough. */
export async function removeStepDir(step: StepDir): Promise<void> {
  await rm(step.dir, { recursive: true, force: true });
}
