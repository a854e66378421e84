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

/** A -v mount; `seed` is set for a named volume that takes the image's content while empty (no `nocopy`). */
export interface VolumeMount {
  readonly mount: ExecMount;
  readonly seed?: { readonly dir: string; readonly target: string };
}

/** -v HOST:CTR[:OPTS] binds a host path; -v NAME:CTR[:OPTS] a named volume under KILN_ROOT/volumes. OPTS: ro|rw, nocopy. */
export async function volumeMount(spec: string, volumesDir: string): Promise<VolumeMount> {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || parts[0] === '' || parts[1] === '') {
    throw new UsageError(`-v "${spec}": use HOST_PATH:CONTAINER_PATH[:ro] or VOLUME_NAME:CONTAINER_PATH[:ro|rw][,nocopy]`);
  }
  const [source, target, optionText = 'rw'] = parts as [string, string, string?];
  const options = optionText.split(',');
  for (const option of options) if (!['ro', 'rw', 'nocopy'].includes(option)) throw new UsageError(`-v "${spec}": unknown option "${option}" (use ro, rw or nocopy)`);
  if (options.includes('ro') && options.includes('rw')) throw new UsageError(`-v "${spec}": ro and rw contradict each other`);
  if (!isAbsolute(target)) throw new UsageError(`-v "${spec}": the container path must be absolute`);
  const readonly = options.includes('ro');
  if (source.startsWith('/') || source.startsWith('.')) {
    if (options.includes('nocopy')) throw new UsageError(`-v "${spec}": nocopy applies to named volumes only, not to a host path`);
    const hostPath = resolve(source);
    // docker's -v creates a missing host path as a directory (only --mount refuses it).
    if (!existsSync(hostPath)) await mkdir(hostPath, { recursive: true });
    return { mount: { kind: 'bind', source: hostPath, target, readonly } };
  }
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(source)) throw new UsageError(`-v "${spec}": "${source}" is not a valid volume name`);
  const dir = join(volumesDir, source);
  await mkdir(dir, { recursive: true });
  const mount: ExecMount = { kind: 'bind', source: dir, target, readonly };
  return options.includes('nocopy') ? { mount } : { mount, seed: { dir, target } };
}

export interface LimitFlags {
  readonly memory?: string;
  readonly memorySwap?: string;
  readonly cpus?: string;
  readonly pids?: string;
}

/**
 * docker run's limits. --memory-swap is memory plus swap (-1 unlimited) and needs --memory; without it docker
 * allows as much swap as memory (memory+swap = 2 × memory). `swapAccounted` says whether the kernel can limit swap;
 * when it cannot, the swap limit is dropped and `warnings` says so, as docker does.
 */
export function resourceLimits(flags: LimitFlags, swapAccounted: boolean): { limits: ResourceLimits | undefined; warnings: string[] } {
  const limits: { memoryBytes?: number; memorySwapBytes?: number; cpus?: number; pids?: number } = {};
  const warnings: string[] = [];
  if (flags.memory !== undefined) limits.memoryBytes = parseByteSize(flags.memory, '--memory');
  if (flags.memorySwap !== undefined) {
    if (limits.memoryBytes === undefined) throw new UsageError('invalid --memory-swap: you should always set the memory limit (--memory) when using --memory-swap');
    const swap = flags.memorySwap.trim() === '-1' ? -1 : parseByteSize(flags.memorySwap, '--memory-swap');
    if (swap !== -1 && swap < limits.memoryBytes) throw new UsageError(`invalid --memory-swap "${flags.memorySwap}": the memory+swap limit must be at least the memory limit (--memory ${flags.memory})`);
    limits.memorySwapBytes = swap;
  } else if (limits.memoryBytes !== undefined) {
    limits.memorySwapBytes = 2 * limits.memoryBytes;
  }
  if (limits.memorySwapBytes !== undefined && !swapAccounted) {
    delete limits.memorySwapBytes;
    warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
  }
  if (flags.cpus !== undefined) {
    const value = Number(flags.cpus);
    if (!Number.isFinite(value) || value <= 0) throw new UsageError(`invalid --cpus "${flags.cpus}": a positive number is required`);
    limits.cpus = value;
  }
  if (flags.pids !== undefined) {
    const value = Number(flags.pids);
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`invalid --pids-limit "${flags.pids}": a positive integer is required`);
    limits.pids = value;
  }
  return { limits: Object.keys(limits).length === 0 ? undefined : limits, warnings };
}
