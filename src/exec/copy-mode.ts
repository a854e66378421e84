// COPY/ADD --chmod: octal ("755") or symbolic ("u+x,g-w,o=r") modes, applied to each copied entry.
import { KilnError } from '../errors.js';

export class InvalidChmodError extends KilnError {
  constructor(readonly spec: string, reason: string) {
    super(`invalid --chmod=${spec}: ${reason}`);
  }
}

/** Maps an entry's current permission bits (07777) to the new ones. */
export type ModeChange = (current: number, isDir: boolean) => number;

const CLASS_SHIFT = { u: 6, g: 3, o: 0 } as const;
type ClassLetter = keyof typeof CLASS_SHIFT;

interface Clause {
  readonly who: readonly ClassLetter[];
  readonly op: '+' | '-' | '=';
  readonly perms: string;
}

function parseClauses(spec: string): Clause[] {
  const clauses: Clause[] = [];
  for (const part of spec.split(',')) {
    const m = /^([ugoa]*)((?:[-+=][rwxXstugo]*)+)$/.exec(part);
    if (m === null) throw new InvalidChmodError(spec, `cannot parse ${JSON.stringify(part)} (use octal like 755 or symbolic like u+x,g-w)`);
    const whoText = m[1] as string;
    // No class letter means all classes (as BuildKit does; there is no umask here).
    const who: ClassLetter[] = whoText === '' || whoText.includes('a') ? ['u', 'g', 'o'] : [...new Set(whoText.split('') as ClassLetter[])];
    for (const action of (m[2] as string).match(/[-+=][rwxXstugo]*/g) ?? []) {
      const perms = action.slice(1);
      if (/[ugo]/.test(perms) && !/^[ugo]$/.test(perms)) {
        throw new InvalidChmodError(spec, `a copy from a class (${perms}) must stand alone`);
      }
      clauses.push({ who, op: action[0] as Clause['op'], perms });
    }
  }
  return clauses;
}

function bitsFor(clause: Clause, current: number, isDir: boolean): number {
  let bits = 0;
  if (/^[ugo]$/.test(clause.perms)) {
    const from = (current >> CLASS_SHIFT[clause.perms as ClassLetter]) & 7;
    for (const w of clause.who) bits |= from << CLASS_SHIFT[w];
    return bits;
  }
  for (const p of clause.perms) {
    for (const w of clause.who) {
      const shift = CLASS_SHIFT[w];
      if (p === 'r') bits |= 4 << shift;
      else if (p === 'w') bits |= 2 << shift;
      else if (p === 'x') bits |= 1 << shift;
      else if (p === 'X' && (isDir || (current & 0o111) !== 0)) bits |= 1 << shift;
      else if (p === 's' && w === 'u') bits |= 0o4000;
      else if (p === 's' && w === 'g') bits |= 0o2000;
      else if (p === 't' && w === 'o') bits |= 0o1000;
    }
  }
  return bits;
}

function classMask(who: readonly ClassLetter[]): number {
  let mask = 0;
  for (const w of who) {
    mask |= 7 << CLASS_SHIFT[w];
    if (w === 'u') mask |= 0o4000;
    if (w === 'g') mask |= 0o2000;
    if (w === 'o') mask |= 0o1000;
  }
  return mask;
}

/** Parses a --chmod value. Octal sets the mode outright; symbolic edits each entry's own mode. */
export function parseChmod(spec: string): ModeChange {
  if (/^[0-7]{1,4}$/.test(spec)) {
    const mode = parseInt(spec, 8);
    return () => mode;
  }
  if (/^\d+$/.test(spec)) throw new InvalidChmodError(spec, 'octal digits are 0-7');
  const clauses = parseClauses(spec);
  return (current, isDir) => {
    let mode = current & 0o7777;
    for (const clause of clauses) {
      const bits = bitsFor(clause, mode, isDir);
      if (clause.op === '+') mode |= bits;
      else if (clause.op === '-') mode &= ~bits;
      else mode = (mode & ~classMask(clause.who)) | bits;
    }
    return mode;
  };
}
