// --secret id=ID[,src=FILE|,env=VAR]: the values a build's secret mounts see, read once at the start.
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../disk/process-alive.js';
import { KilnError, UsageError } from '../errors.js';

export type SecretSpec = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'env'; readonly name: string };

/** Parses one --secret value, like buildx: id=ID plus src=/source= a file or env= a variable (default: the variable named ID). */
export function parseSecretFlag(text: string): { id: string; spec: SecretSpec } {
  const fields = new Map<string, string>();
  for (const field of text.split(',')) {
    const eq = field.indexOf('=');
    if (eq <= 0) throw new UsageError(`--secret "${text}": each field must be key=value (id=ID,src=FILE or id=ID,env=VAR)`);
    fields.set(field.slice(0, eq).trim().toLowerCase(), field.slice(eq + 1));
  }
  const id = fields.get('id');
  if (!id) throw new UsageError(`--secret "${text}": id= is required`);
  const type = fields.get('type');
  const src = fields.get('src') ?? fields.get('source');
  const env = fields.get('env');
  for (const key of fields.keys()) {
    if (!['id', 'type', 'src', 'source', 'env'].includes(key)) throw new UsageError(`--secret "${text}": unknown field "${key}"`);
  }
  if (src !== undefined && env !== undefined) throw new UsageError(`--secret "${text}": give src= or env=, not both`);
  if (type !== undefined && type !== 'file' && type !== 'env') throw new UsageError(`--secret "${text}": type must be file or env`);
  if (src !== undefined || type === 'file') return { id, spec: { kind: 'file', path: src ?? id } };
  return { id, spec: { kind: 'env', name: env ?? id } };
}

export async function readSecrets(specs: Readonly<Record<string, SecretSpec>>, env: NodeJS.ProcessEnv): Promise<Map<string, Buffer>> {
  const values = new Map<string, Buffer>();
  for (const [id, spec] of Object.entries(specs)) {
    if (spec.kind === 'env') {
      const value = env[spec.name];
      if (value === undefined) throw new KilnError(`secret "${id}": environment variable ${spec.name} is not set`);
      values.set(id, Buffer.from(value));
      continue;
    }
    try {
      values.set(id, await readFile(spec.path));
    } catch (error) {
      throw new KilnError(`secret "${id}": cannot read ${spec.path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
  }
  return values;
}

/** Secret files live on a tmpfs while a step runs, so they never reach a disk. */
export function secretsDirFor(execStateDir: string): string {
  return existsSync('/dev/shm') ? '/dev/shm/kiln-secrets' : join(execStateDir, 'secrets');
}

/** Removes secret files a killed kiln left behind (named "<pid>-…"). */
export async function cleanupStaleSecrets(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!processAlive(Number(name.split('-')[0]))) await rm(join(dir, name), { force: true });
  }
}
