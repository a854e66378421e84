// kiln run's docker-compatible options turned into executor terms: env files, volumes, limits.
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { ExecMount, ResourceLimits } from '../exec/types.js';
import { parseByteSize } from './byte-size.js';

/** --env-file: KEY=VALUE lines; '#' comments and blank lines skipped; a bare KEY takes the client's value (docker). */
export async function readEnvFile(path: string, clientEnv: NodeJS.ProcessEnv): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--env-file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const entries: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq === 0) throw new UsageError(`--env-file ${path}: invalid line "${line}": the name is empty`);
    if (eq === -1) {
      const value = clientEnv[line.trimEnd()];
      if (value !== undefined) entries.push(`${line.trimEnd()}=${value}`);
    } else entries.push(line);
  }
  return entries;
}

/** -v HOST:CTR[:ro|rw] binds a host path; -v NAME:CTR[:ro] a named volume kept under KILN_ROOT/volumes. */
export async function volumeMount(spec: string, volumesDir: string): Promise<ExecMount> {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || parts[0] === '' || parts[1] === '') {
    throw new UsageError(`-v "${spec}": use HOST_PATH:CONTAINER_PATH[:ro] or VOLUME_NAME:CONTAINER_PATH[:ro]`);
  }
  const [source, target, mode = 'rw'] = parts as [string, string, string?];
  if (mode !== 'ro' && mode !== 'rw') throw new UsageError(`-v "${spec}": the mode must be ro or rw`);
  if (!isAbsolute(target)) throw new UsageError(`-v "${spec}": the container path must be absolute`);
  const readonly = mode === 'ro';
  if (source.startsWith('/') || source.startsWith('.')) {
    const hostPath = resolve(source);
    // docker's -v creates a missing host path as a directory (only --mount refuses it).
    if (!existsSync(hostPath)) await mkdir(hostPath, { recursive: true });
    return { kind: 'bind', source: hostPath, target, readonly };
  }
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(source)) throw new UsageError(`-v "${spec}": "${source}" is not a valid volume name`);
  const dir = join(volumesDir, source);
  await mkdir(dir, { recursive: true });
  return { kind: 'bind', source: dir, target, readonly };
}

export function resourceLimits(memory: string | undefined, cpus: string | undefined, pids: string | undefined): ResourceLimits | undefined {
  const limits: { memoryBytes?: number; cpus?: number; pids?: number } = {};
  if (memory !== undefined) limits.memoryBytes = parseByteSize(memory, '--memory');
  if (cpus !== undefined) {
    const value = Number(cpus);
    if (!Number.isFinite(value) || value <= 0) throw new UsageError(`invalid --cpus "${cpus}": a positive number is required`);
    limits.cpus = value;
  }
  if (pids !== undefined) {
    const value = Number(pids);
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`invalid --pids-limit "${pids}": a positive integer is required`);
    limits.pids = value;
  }
  return Object.keys(limits).length === 0 ? undefined : limits;
}
