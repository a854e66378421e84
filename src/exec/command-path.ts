// Finds the command's executable with the container's own PATH, after pivot_root (so "/" is the container root).
import { statSync } from 'node:fs';
import { ContainerStartError } from './errors.js';

/** Docker's PATH when the image sets none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker fills in PATH and HOME (from the passwd entry) when the environment lacks them. */
export function withDefaultEnv(env: readonly string[], home: string): string[] {
  const out = [...env];
  if (envValue(env, 'PATH') === undefined) out.push(`PATH=${DEFAULT_PATH}`);
  if (envValue(env, 'HOME') === undefined) out.push(`HOME=${home === '' ? '/' : home}`);
  return out;
}

export function envValue(env: readonly string[], key: string): string | undefined {
  const prefix = `${key}=`;
  for (let i = env.length - 1; i >= 0; i--) {
    const entry = env[i] as string;
    if (entry.startsWith(prefix)) return entry.slice(prefix.length);
  }
  return undefined;
}

/** Like Go's exec.LookPath: a name with a slash is used as is, a bare name is searched in PATH. */
export function resolveCommand(arg0: string, env: readonly string[]): string {
  if (arg0 === '') throw new ContainerStartError('cannot run an empty command', 127);
  if (arg0.includes('/')) return arg0;
  const pathVar = envValue(env, 'PATH') ?? DEFAULT_PATH;
  for (const dir of pathVar.split(':')) {
    const candidate = `${dir === '' ? '.' : dir}/${arg0}`;
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new ContainerStartError(`exec: "${arg0}": executable file not found in $PATH`, 127);
}

function isExecutableFile(p: string): boolean {
  try {
    const st = statSync(p);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    // Any lookup failure (missing, not a dir, loop) means "not here", exactly as exec.LookPath treats it.
    return false;
  }
}
