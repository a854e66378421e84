// .dockerignore files and exclude patterns, with moby/patternmatcher's exact matching rules and fsutil's walk pruning.
import { BadPatternError, cleanPath, compileSegment } from './path-pattern.js';

/** Parses a .dockerignore like moby's ignorefile.ReadAll: comments, blank lines, "!" exceptions, leading "/" dropped, paths cleaned. */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const raw of lines) {
    // A "#" only starts a comment in the first column, before trimming (as Docker does).
    if (raw.startsWith('#')) continue;
    let pattern = raw.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    out.push(invert ? `!${pattern}` : pattern);
  }
  return out;
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

/** Characters of moby patterns that need escaping in a regexp but mean nothing special to filepath.Match. */
const REGEX_ONLY_SPECIALS = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

/** One compiled pattern of a matcher. */
export class IgnorePattern {
  readonly exclusion: boolean;
  readonly cleaned: string;
  private readonly type: MatchType;
  private readonly regexp: RegExp | null;

  constructor(text: string) {
    let p = cleanPath(text.trim());
    this.exclusion = p.startsWith('!');
    if (this.exclusion) {
      if (p.length === 1) throw new BadPatternError(text, 'illegal exclusion pattern: "!"');
      p = p.slice(1);
    }
    // Same syntax check as patternmatcher.New (filepath.Match(p, ".")): every segment must be a valid Go pattern.
    for (const segment of p.split('/')) compileSegment(segment);
    this.cleaned = p;
    const compiled = compileMobyPattern(p);
    this.type = compiled.type;
    this.regexp = compiled.regexp;
  }

  /** patternmatcher's Pattern.match on a cleaned, slash-separated relative path. */
  match(path: string): boolean {
    switch (this.type) {
      case 'exact':
        return path === this.cleaned;
      case 'prefix':
        return path.startsWith(this.cleaned.slice(0, -2));
      case 'suffix': {
        const suffix = this.cleaned.slice(2);
        if (path.endsWith(suffix)) return true;
        // "**/foo" also matches "foo".
        return suffix.startsWith('/') && path === suffix.slice(1);
      }
      case 'regexp':
        return (this.regexp as RegExp).test(path);
      default: {
        const never: never = this.type;
        return never;
      }
    }
  }

  /** The pattern without a trailing "/**" or "/*" (fsutil's patternWithoutTrailingGlob). */
  withoutTrailingGlob(): string {
    let s = this.cleaned;
    if (s.endsWith('/**')) s = s.slice(0, -3);
    else if (s.endsWith('/*')) s = s.slice(0, -2);
    return s;
  }
}

/** Port of patternmatcher's Pattern.compile: picks exact/prefix/suffix matching where it can, else a regexp. */
function compileMobyPattern(pattern: string): { type: MatchType; regexp: RegExp | null } {
  let re = '^';
  let type: MatchType = 'exact';
  const chars = Array.from(pattern);
  let pos = 0;
  for (let i = 0; pos < chars.length; i += 1) {
    const ch = chars[pos++] as string;
    if (ch === '*') {
      if (chars[pos] === '*') {
        pos += 1;
        // "**/" is the same as "**".
        if (chars[pos] === '/') pos += 1;
        if (pos >= chars.length) {
          // Trailing "**" accepts everything, as in .gitignore.
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        if (i === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (REGEX_ONLY_SPECIALS.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === '\\') {
      const next = chars[pos];
      if (next !== undefined) {
        pos += 1;
        re += /[A-Za-z0-9]/.test(next) ? next : `\\${next}`;
        type = 'regexp';
      } else {
        re += '\\\\';
      }
    } else if (ch === '[' || ch === ']') {
      re += ch;
      type = 'regexp';
    } else {
      re += ch;
    }
  }
  if (type !== 'regexp') return { type, regexp: null };
  return { type, regexp: new RegExp(`${re}$`, 's') };
}

/** Per-pattern results of a directory, handed to its children (patternmatcher's MatchInfo). */
export type ParentMatchInfo = readonly boolean[];

/** A list of exclude patterns in order; the last matching pattern wins, "!" patterns re-include. */
export class ExcludeMatcher {
  readonly patterns: readonly IgnorePattern[];
  readonly hasExclusions: boolean;
  /** fsutil's onlyPrefixExcludeExceptions: every "!" pattern is a plain path, so pruning excluded dirs is safe to decide by prefix. */
  private readonly onlyPrefixExceptions: boolean;

  constructor(patterns: readonly string[]) {
    this.patterns = patterns.filter((p) => p.trim() !== '').map((p) => new IgnorePattern(p));
    this.hasExclusions = this.patterns.some((p) => p.exclusion);
    this.onlyPrefixExceptions = this.patterns.every((p) => !p.exclusion || !/[*[\]?^\\]/.test(p.withoutTrailingGlob()));
  }

  get isEmpty(): boolean {
    return this.patterns.length === 0;
  }

  /** patternmatcher.MatchesOrParentMatches: is `relPath` excluded, judging it and each of its parent dirs. */
  isExcluded(relPath: string): boolean {
    const file = cleanPath(relPath);
    if (file === '.') return false;
    const slash = file.lastIndexOf('/');
    const parents = slash < 0 ? [] : file.slice(0, slash).split('/');
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      let match = pattern.match(file);
      for (let i = 0; !match && i < parents.length; i += 1) match = pattern.match(parents.slice(0, i + 1).join('/'));
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * patternmatcher.MatchesUsingParentResults: the walk-time form, given the parent dir's info
   * (empty for a top-level entry or when the parent is unknown, which falls back to checking every parent).
   */
  matchInWalk(relPath: string, parent: ParentMatchInfo): { readonly excluded: boolean; readonly info: ParentMatchInfo } {
    const file = cleanPath(relPath);
    const info: boolean[] = new Array<boolean>(this.patterns.length).fill(false);
    let matched = false;
    this.patterns.forEach((pattern, i) => {
      let match = parent.length !== 0 ? (parent[i] as boolean) : false;
      if (!match) {
        if (pattern.exclusion !== matched) return;
        match = pattern.match(file);
        if (!match && parent.length === 0) {
          const slash = file.lastIndexOf('/');
          const parents = slash < 0 ? [] : file.slice(0, slash).split('/');
          for (let k = 0; !match && k < parents.length; k += 1) match = pattern.match(parents.slice(0, k + 1).join('/'));
        }
      }
      info[i] = match;
      if (match) matched = !pattern.exclusion;
    });
    return { excluded: matched, info };
  }

  /**
   * Whether an excluded directory must still be walked because a later "!" pattern may re-include
   * something inside it (fsutil's rule: prune only when every exception is a plain path outside it).
   */
  mustWalkExcludedDir(relDir: string): boolean {
    if (!this.hasExclusions) return false;
    if (!this.onlyPrefixExceptions) return true;
    const dirSlash = `${cleanPath(relDir)}/`;
    return this.patterns.some((p) => p.exclusion && `${p.withoutTrailingGlob()}/`.startsWith(dirSlash));
  }
}
