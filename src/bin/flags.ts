// Docker-style command-line flags: --name=value, --name value, -n value, combined short booleans (-it).
import { UsageError } from '../errors.js';

export interface FlagSpec {
  readonly type: 'boolean' | 'string';
  readonly short?: string;
  readonly multiple?: boolean;
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedFlags {
  readonly values: FlagValues;
  readonly positionals: string[];
}

/**
 * Parses `args` against `spec`. With `stopAtPositional`, everything from the first positional on is left
 * unparsed (for `kiln run IMAGE ARGS...`, where the container's args may look like flags).
 */
export function parseFlags(command: string, args: readonly string[], spec: Readonly<Record<string, FlagSpec>>, stopAtPositional = false): ParsedFlags {
  const values: FlagValues = {};
  const positionals: string[] = [];
  const byShort = new Map(Object.entries(spec).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])));
  const set = (name: string, value: string | boolean): void => {
    const s = spec[name]!;
    if (s.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), String(value)];
    else values[name] = value;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const s = spec[name];
      if (!s) throw new UsageError(`kiln ${command}: unknown flag: --${name}`);
      if (s.type === 'boolean') {
        if (eq !== -1 && !['true', 'false'].includes(arg.slice(eq + 1))) throw new UsageError(`kiln ${command}: flag --${name} takes true or false, not "${arg.slice(eq + 1)}"`);
        set(name, eq === -1 ? true : arg.slice(eq + 1) === 'true');
      } else if (eq !== -1) {
        set(name, arg.slice(eq + 1));
      } else {
        const value = args[++i];
        if (value === undefined) throw new UsageError(`kiln ${command}: flag --${name} needs a value`);
        set(name, value);
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const name = byShort.get(arg[j]!);
        if (!name) throw new UsageError(`kiln ${command}: unknown shorthand flag: '${arg[j]}' in ${arg}`);
        if (spec[name]!.type === 'boolean') {
          set(name, true);
          continue;
        }
        const inline = arg.slice(j + 1);
        const value = inline !== '' ? inline.replace(/^=/, '') : args[++i];
        if (value === undefined) throw new UsageError(`kiln ${command}: flag -${arg[j]} needs a value`);
        set(name, value);
        break;
      }
      continue;
    }
    if (stopAtPositional) {
      positionals.push(...args.slice(i));
      break;
    }
    positionals.push(arg);
  }
  return { values, positionals };
}

export function stringFlag(values: FlagValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function listFlag(values: FlagValues, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value : [];
}

export function boolFlag(values: FlagValues, name: string): boolean {
  return values[name] === true;
}

/** Parses K=V pairs (build args, env); a bare K takes its value from `fallback` when given, as docker does. */
export function keyValues(command: string, flag: string, pairs: readonly string[], fallback?: NodeJS.ProcessEnv): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq === 0) throw new UsageError(`kiln ${command}: invalid ${flag} "${pair}": the name is empty`);
    if (eq === -1) {
      const value = fallback?.[pair];
      if (value !== undefined) result[pair] = value;
      continue;
    }
    result[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return result;
}

/** `{ [key]: value }` when value is set, else nothing (exactOptionalPropertyTypes forbids explicit undefined). */
export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
