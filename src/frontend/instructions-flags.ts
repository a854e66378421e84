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

/** Parse `flags` (each "--name" or "--name=value") against the allowed `spec`. */
export function parseFlags(flags: readonly string[], spec: Readonly<Record<string, FlagType>>): ParsedFlags {
  if (flags.length === 0) return NO_FLAGS;
  const strings = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const bools = new Map<string, boolean>();
  const used = new Set<string>();
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
    if (used.has(name) && type !== 'strings') throw new InstructionProblem(`duplicate flag specified: ${name}`);
    used.add(name);
    switch (type) {
      case 'bool': {
        if (hasValue && value === '') throw new InstructionProblem(`missing a value on flag: ${name}`);
        const lower = value.toLowerCase();
        if (lower === 'true' || lower === '') bools.set(name, true);
        else if (lower === 'false') bools.set(name, false);
        else throw new InstructionProblem(`expecting boolean value for flag ${name}, not: ${value}`);
        break;
      }
      case 'string':
        if (!hasValue) throw new InstructionProblem(`missing a value on flag: ${name}`);
        strings.set(name, value);
        break;
      case 'strings': {
        if (!hasValue) throw new InstructionProblem(`missing a value on flag: ${name}`);
        const list = lists.get(name) ?? [];
        list.push(value);
        lists.set(name, list);
        break;
      }
      default: {
        const never: never = type;
        throw new InstructionProblem(`unknown flag type ${String(never)}`);
      }
    }
  }
  return {
    string: (name) => strings.get(name),
    strings: (name) => lists.get(name) ?? NO_STRINGS,
    bool: (name) => bools.get(name),
  };
}
