// Instruction flags (`--from=build`, `--link`, repeated `--mount=...`), validated like BuildKit's BFlags.
import { InstructionProblem } from './instructions-error.js';
import { withSuggestion } from './instructions-suggest.js';

export type FlagType = 'string' | 'strings' | 'bool';


export interface ParsedFlags {
  string(name: string): string | undefined;
  strings(name: string): readonly string[];
  /** undefined when not given. */
  bool(name: string): boolean | undefined;
}

const NO_STRINGS: readonly string[] = [];
/** Most instructions have no flags: one shared answer instead of maps per instruction. */
const NO_FLAGS: ParsedFlags = { string: () => undefined, strings: () => NO_STRINGS, bool: () => undefined };

/** Parsed flags, in the order given; an instruction has a few, so a look-up is a scan (no maps per instruction). */
class FlagValues implements ParsedFlags {
  private readonly names: string[] = [];
  private readonly values: (string | boolean | string[])[] = [];

  set(name: string, value: string | boolean | string[]): void {
    this.names.push(name);
    this.values.push(value);
  }

  get(name: string): string | boolean | string[] | undefined {
    const index = this.names.indexOf(name);
    return index < 0 ? undefined : this.values[index];
  }

  has(name: string): boolean {
    return this.names.includes(name);
  }

  string(name: string): string | undefined {
    const value = this.get(name);
    return typeof value === 'string' ? value : undefined;
  }

  strings(name: string): readonly string[] {
    const value = this.get(name);
    return Array.isArray(value) ? value : NO_STRINGS;
  }

  bool(name: string): boolean | undefined {
    const value = this.get(name);
    return typeof value === 'boolean' ? value : undefined;
  }
}

/** Parse `flags` (each "--name" or "--name=value") against the allowed `spec`. */
export function parseFlags(flags: readonly string[], spec: Readonly<Record<string, FlagType>>): ParsedFlags {
  if (flags.length === 0) return NO_FLAGS;
  const parsed = new FlagValues();
  for (const raw of flags) {
    if (!raw.startsWith('--')) throw new InstructionProblem(`invalid flag: ${raw}`);
    let name = raw.slice(2);
    let value = '';
    let hasValue = false;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
      hasValue = true;
    }
    const type = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (type === undefined) {
      throw new InstructionProblem(withSuggestion(`unknown flag: ${name}`, name, Object.keys(spec)));
    }
    if (type !== 'strings' && parsed.has(name)) throw new InstructionProblem(`duplicate flag specified: ${name}`);
    switch (type) {
      case 'bool': {
        if (hasValue && value === '') throw new InstructionProblem(`missing a value on flag: ${name}`);
        const lower = value.toLowerCase();
        if (lower === 'true' || lower === '') parsed.set(name, true);
        else if (lower === 'false') parsed.set(name, false);
        else throw new InstructionProblem(`expecting boolean value for flag ${name}, not: ${value}`);
        break;
      }
      case 'string':
        if (!hasValue) throw new InstructionProblem(`missing a value on flag: ${name}`);
        parsed.set(name, value);
        break;
      case 'strings': {
        if (!hasValue) throw new InstructionProblem(`missing a value on flag: ${name}`);
        const list = parsed.get(name);
        if (Array.isArray(list)) list.push(value);
        else parsed.set(name, [value]);
        break;
      }
      default: {
        const never: never = type;
        throw new InstructionProblem(`unknown flag type ${String(never)}`);
      }
    }
  }
  return parsed;
}
