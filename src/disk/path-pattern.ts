// Path patterns of Dockerfiles: Go filepath.Match per segment (COPY sources) and moby/patternmatcher patterns (.dockerignore, --exclude).
import { KilnError } from '../errors.js';

/** A malformed pattern (unclosed "[", trailing "\", empty class): Go's filepath.ErrBadPattern. */
export class BadPatternError extends KilnError {
  constructor(readonly pattern: string, reason: string) {
    super(`syntax error in pattern ${JSON.stringify(pattern)}: ${reason}`);
  }
}

function escapeRegexChar(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

/**
 * Translates a Go character class starting at `pattern[start] === "["` into a JS class.
 * Returns the class and the index after "]". Go negates with "^" only, and "\" escapes inside too.
 */
function translateClass(pattern: string, start: number): { readonly re: string; readonly end: number } {
  let i = start + 1;
  let out = '[';
  if (pattern[i] === '^') {
    out += '^';
    i += 1;
  }
  let ranges = 0;
  const readChar = (): string => {
    let ch = pattern[i];
    if (ch === '\\') {
      i += 1;
      ch = pattern[i];
    }
    if (ch === undefined) throw new BadPatternError(pattern, 'unterminated character class');
    i += 1;
    return ch;
  };
  for (;;) {
    if (i >= pattern.length) throw new BadPatternError(pattern, 'unterminated character class');
    if (pattern[i] === ']' && ranges > 0) break;
    if (pattern[i] === '-' || pattern[i] === ']') throw new BadPatternError(pattern, `unexpected "${pattern[i]}" in character class`);
    const lo = readChar();
    let hi = lo;
    if (pattern[i] === '-') {
      i += 1;
      if (pattern[i] === ']' || i >= pattern.length) throw new BadPatternError(pattern, 'range without an end in character class');
      hi = readChar();
      if (hi < lo) throw new BadPatternError(pattern, `reversed range ${lo}-${hi}`);
    }
    out += lo === hi ? escapeRegexChar(lo) : `${escapeRegexChar(lo)}-${escapeRegexChar(hi)}`;
    ranges += 1;
  }
  return { re: `${out}]`, end: i + 1 };
}

/** Compiles one segment pattern (no "/") with Go's filepath.Match rules into an anchored RegExp. */
export function compileSegment(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; ) {
    const ch = pattern[i] as string;
    if (ch === '*') {
      re += '[^/]*';
      i += 1;
    } else if (ch === '?') {
      re += '[^/]';
      i += 1;
    } else if (ch === '[') {
      const cls = translateClass(pattern, i);
      re += cls.re;
      i = cls.end;
    } else if (ch === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) throw new BadPatternError(pattern, 'trailing "\\"');
      re += escapeRegexChar(next);
      i += 2;
    } else {
      re += escapeRegexChar(ch);
      i += 1;
    }
  }
  return new RegExp(`^${re}$`, 's');
}

/** Go's filepath.Match(pattern, name) for names without "/" (COPY wildcards match one path segment per pattern segment). */
export function matchSegment(pattern: string, name: string): boolean {
  return compileSegment(pattern).test(name);
}

/** True when a segment has Go wildcard syntax (an escaped character does not count), as fsutil's containsWildcards. */
export function hasWildcards(segment: string): boolean {
  for (let i = 0; i < segment.length; i += 1) {
    const ch = segment[i];
    if (ch === '\\') i += 1;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

/** Lexically cleans a slash path like Go's path.Clean ("" → "."). */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/**
 * A compiled multi-segment source pattern: segments match with filepath.Match, and a segment that is
 * exactly "**" matches zero or more whole segments (BuildKit's own COPY only has "*"; "**" is our extension).
 */
export class SourcePattern {
  private readonly segments: readonly (RegExp | '**')[];

  constructor(readonly pattern: string) {
    this.segments = pattern
      .split('/')
      .filter((s) => s !== '' && s !== '.')
      .map((s) => (s === '**' ? '**' : compileSegment(s)));
  }

  /** True when the whole relative path (slash-separated, no leading "/") matches. */
  matches(relPath: string): boolean {
    return this.matchFrom(relPath === '' ? [] : relPath.split('/'), 0, 0);
  }

  /** True when some path below `relDir` could match, so a walk must enter it. */
  couldMatchInside(relDir: string): boolean {
    return this.prefixMatches(relDir === '' ? [] : relDir.split('/'), 0, 0);
  }

  private matchFrom(parts: readonly string[], pi: number, si: number): boolean {
    if (si === this.segments.length) return pi === parts.length;
    const seg = this.segments[si];
    if (seg === '**') {
      for (let k = pi; k <= parts.length; k += 1) if (this.matchFrom(parts, k, si + 1)) return true;
      return false;
    }
    if (pi === parts.length || seg === undefined) return false;
    return seg.test(parts[pi] as string) && this.matchFrom(parts, pi + 1, si + 1);
  }

  private prefixMatches(parts: readonly string[], pi: number, si: number): boolean {
    if (pi === parts.length) return si < this.segments.length;
    if (si === this.segments.length) return false;
    const seg = this.segments[si];
    if (seg === '**') return true;
    if (seg === undefined) return false;
    return seg.test(parts[pi] as string) && this.prefixMatches(parts, pi + 1, si + 1);
  }
}
