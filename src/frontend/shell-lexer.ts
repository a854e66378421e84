// Dockerfile word expansion ($VAR, ${VAR:-x}, quotes, escapes), matching BuildKit's shell lexer.
import { KilnError } from '../errors.js';
import { InvalidShellPattern, shellPatternToRegex, trimPrefix, trimSuffix } from './shell-pattern.js';

export type WordExpansionErrorKind =
  | 'unterminated-quote'
  | 'missing-brace'
  | 'bad-substitution'
  | 'unsupported-modifier'
  | 'required-variable'
  | 'invalid-pattern';

/** A word that cannot be expanded; the instruction layer turns it into a positioned DockerfileError. */
export class WordExpansionError extends KilnError {
  constructor(
    readonly kind: WordExpansionErrorKind,
    /** BuildKit's wording without the "failed to process" prefix, e.g. "FOO: is not allowed to be unset". */
    readonly detail: string,
    readonly word: string,
    /** The variable named by `${V:?}` errors. */
    readonly variable?: string,
  ) {
    super(`failed to process ${JSON.stringify(word)}: ${detail}`);
  }
}

/** Variable lookup: names are case-sensitive (Linux). */
export type ExpansionEnv = ReadonlyMap<string, string>;

/** BuildKit's lexer modes, used for progress names and heredoc bodies. */
export interface ExpansionModes {
  /** Keep quote characters in the output (`"a"` stays `"a"`). */
  readonly rawQuotes?: boolean;
  /** Leave unset variables as written (`$NOPE` stays `$NOPE`). */
  readonly skipUnsetEnv?: boolean;
  /** Quotes are ordinary characters (heredoc bodies). */
  readonly skipProcessQuotes?: boolean;
}

export interface ExpansionResult {
  /** Single-word mode result (quotes removed, no splitting). */
  readonly word: string;
  /** Word-splitting mode result. */
  readonly words: readonly string[];
  /** Names that were looked up and found / not found (for the UndefinedVar check). */
  readonly matched: ReadonlySet<string>;
  readonly unmatched: ReadonlySet<string>;
}

const EOF = -1;

/** Go's unicode.IsSpace. */
function isSpace(cp: number): boolean {
  if (cp <= 0xff) return (cp >= 9 && cp <= 13) || cp === 32 || cp === 0x85 || cp === 0xa0;
  return /\p{White_Space}/u.test(String.fromCodePoint(cp));
}

function isDigit(cp: number): boolean {
  if (cp < 0x80) return cp >= 48 && cp <= 57;
  return /\p{Nd}/u.test(String.fromCodePoint(cp));
}

function isLetter(cp: number): boolean {
  if (cp < 0x80) return (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122);
  return /\p{L}/u.test(String.fromCodePoint(cp));
}

/** POSIX special parameters: always unset in a Dockerfile. */
function isSpecialParam(cp: number): boolean {
  return '@*#?-$!0'.includes(String.fromCodePoint(cp));
}

/** Accumulates word-splitting output the way BuildKit's wordsStruct does (including its empty-quote quirk). */
class WordCollector {
  word = '';
  readonly words: string[] = [];
  private inWord = false;

  addChar(cp: number): void {
    if (isSpace(cp)) {
      if (this.inWord && this.word.length !== 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else {
      this.addRawChar(cp);
    }
  }

  addRawChar(cp: number): void {
    this.word += String.fromCodePoint(cp);
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch.codePointAt(0)!);
  }

  addRawString(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class ShellWord {
  private pos = 0;
  private rawEscapes = false;
  /** Created on first use: most words name no variable. */
  matched: Set<string> | undefined;
  unmatched: Set<string> | undefined;
  private readonly escape: number;

  constructor(
    private readonly source: string,
    private readonly env: ExpansionEnv,
    escapeChar: string,
    private readonly modes: ExpansionModes,
    /** Word splitting is only computed when asked for (it costs a string per character). */
    private readonly splitWords: boolean,
  ) {
    this.escape = escapeChar.codePointAt(0)!;
  }

  private peek(): number {
    return this.pos < this.source.length ? this.source.codePointAt(this.pos)! : EOF;
  }

  private next(): number {
    if (this.pos >= this.source.length) return EOF;
    const cp = this.source.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  /** End of the run of characters from `pos` that none of `specials` (nor the escape) interrupts. */
  private plainRunEnd(stop: number, quotes: boolean): number {
    const src = this.source;
    let end = this.pos;
    while (end < src.length) {
      const c = src.charCodeAt(end);
      if (c === 0x24 || c === this.escape || c === stop || (quotes && (c === 0x27 || c === 0x22))) break;
      end++;
    }
    return end;
  }

  private fail(kind: WordExpansionErrorKind, detail: string, variable?: string): never {
    throw new WordExpansionError(kind, detail, this.source, variable);
  }

  /** Process up to `stop` (consumed) or the end of input. */
  processStopOn(stop: number, rawEscapes: boolean): { word: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.processLoop(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processLoop(stop: number): { word: string; words: string[] } {
    let result = '';
    const words = this.splitWords ? new WordCollector() : undefined;
    const quotes = !this.modes.skipProcessQuotes;
    while (this.pos < this.source.length) {
      let ch = this.peek();
      if (stop !== EOF && ch === stop) {
        this.next();
        return { word: result, words: words?.finish() ?? [] };
      }
      if (ch === 0x24 /* $ */) {
        const value = this.processDollar();
        result += value;
        words?.addString(value);
      } else if (ch === 0x27 /* ' */ && quotes) {
        const value = this.processSingleQuote();
        result += value;
        words?.addRawString(value);
      } else if (ch === 0x22 /* " */ && quotes) {
        const value = this.processDoubleQuote();
        result += value;
        words?.addRawString(value);
      } else if (ch === this.escape) {
        this.next();
        if (this.rawEscapes) {
          words?.addRawChar(ch);
          result += String.fromCodePoint(ch);
        }
        ch = this.next();
        if (ch === EOF) break;
        words?.addRawChar(ch);
        result += String.fromCodePoint(ch);
      } else {
        const end = this.plainRunEnd(stop, quotes);
        const chunk = this.source.slice(this.pos, end);
        this.pos = end;
        result += chunk;
        words?.addString(chunk);
      }
    }
    if (stop !== EOF) {
      this.fail('missing-brace', `unexpected end of statement while looking for matching ${String.fromCodePoint(stop)}`);
    }
    return { word: result, words: words?.finish() ?? [] };
  }

  private processSingleQuote(): string {
    const close = this.source.indexOf("'", this.pos + 1);
    if (close < 0) this.fail('unterminated-quote', 'unexpected end of statement while looking for matching single-quote');
    const body = this.source.slice(this.pos + 1, close);
    this.pos = close + 1;
    return this.modes.rawQuotes ? `'${body}'` : body;
  }

  private processDoubleQuote(): string {
    this.next();
    let result = this.modes.rawQuotes ? '"' : '';
    for (;;) {
      const peeked = this.peek();
      if (peeked === EOF) this.fail('unterminated-quote', 'unexpected end of statement while looking for matching double-quote');
      if (peeked === 0x22) {
        this.next();
        return this.modes.rawQuotes ? `${result}"` : result;
      }
      if (peeked === 0x24) {
        result += this.processDollar();
        continue;
      }
      if (peeked !== this.escape) {
        const end = this.plainRunEnd(0x22, false);
        result += this.source.slice(this.pos, end);
        this.pos = end;
        continue;
      }
      let ch = this.next();
      if (ch === this.escape) {
        if (this.rawEscapes) result += String.fromCodePoint(ch);
        const after = this.peek();
        if (after === EOF) continue;
        // Inside double quotes only ", $ and the escape character itself can be escaped.
        if (after === 0x22 || after === 0x24 || after === this.escape) ch = this.next();
      }
      result += String.fromCodePoint(ch);
    }
  }

  private withPattern<T>(pattern: string, use: () => T): T {
    try {
      return use();
    } catch (err) {
      if (err instanceof InvalidShellPattern) this.fail('invalid-pattern', `invalid pattern (${pattern}) in substitution: ${err.message}`);
      throw err;
    }
  }

  private lookup(name: string): string | undefined {
    const value = this.env.get(name);
    if (value === undefined) (this.unmatched ??= new Set()).add(name);
    else (this.matched ??= new Set()).add(name);
    return value;
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name.length === 0 && isDigit(ch)) {
        // Positional parameter: all the digits.
        while (this.peek() !== EOF && isDigit(this.peek())) name += String.fromCodePoint(this.next());
        return name;
      }
      if (name.length === 0 && isSpecialParam(ch)) return String.fromCodePoint(this.next());
      if (!isLetter(ch) && !isDigit(ch) && ch !== 0x5f) break;
      name += String.fromCodePoint(this.next());
    }
    return name;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== 0x7b /* { */) {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.lookup(name);
      if (value === undefined && this.modes.skipUnsetEnv) return `$${name}`;
      return value ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) this.fail('missing-brace', "syntax error: missing '}'");
    if (first === 0x7b || first === 0x7d || first === 0x3a) this.fail('bad-substitution', 'syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    let modifier = ch === EOF ? '' : String.fromCodePoint(ch);
    switch (ch) {
      case 0x7d /* } */: {
        const value = this.lookup(name);
        if (value === undefined && this.modes.skipUnsetEnv) return `\${${name}}`;
        return value ?? '';
      }
      case 0x3a /* : */: {
        ch = this.next();
        modifier += ch === EOF ? '' : String.fromCodePoint(ch);
        // `${V:#x}` and `${V:%x}` are not shell syntax.
        if (ch === 0x23 || ch === 0x25) {
          this.fail('unsupported-modifier', `unsupported modifier (${modifier}) in substitution`);
        }
        return this.processModifier(name, ch, modifier, true);
      }
      case 0x2b /* + */:
      case 0x2d /* - */:
      case 0x3f /* ? */:
      case 0x23 /* # */:
      case 0x25 /* % */:
        return this.processModifier(name, ch, modifier, false);
      case 0x2f /* / */:
        return this.processReplace(name);
      default:
        if (ch === EOF) this.fail('missing-brace', "syntax error: missing '}'");
        return this.fail('unsupported-modifier', `unsupported modifier (${modifier}) in substitution`);
    }
  }

  private processModifier(name: string, op: number, modifier: string, nullIsUnset: boolean): string {
    const rawEscapes = op === 0x23 || op === 0x25;
    let word: string;
    try {
      word = this.processStopOn(0x7d, rawEscapes).word;
    } catch (err) {
      if (err instanceof WordExpansionError && this.peek() === EOF) this.fail('missing-brace', "syntax error: missing '}'");
      throw err;
    }
    const value = this.lookup(name);
    if (value === undefined && this.modes.skipUnsetEnv) return `\${${name}${modifier}${word}}`;
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (op) {
      case 0x2d:
        return unset ? word : value!;
      case 0x2b:
        return unset ? '' : word;
      case 0x3f:
        if (value === undefined) {
          this.fail('required-variable', `${name}: ${word !== '' ? word : 'is not allowed to be unset'}`, name);
        }
        if (unset) this.fail('required-variable', `${name}: ${word !== '' ? word : 'is not allowed to be empty'}`, name);
        return value;
      case 0x23:
      case 0x25: {
        // `##` / `%%` match the longest pattern, `#` / `%` the shortest.
        let pattern = word;
        let greedy = false;
        if (pattern.length > 0 && pattern.codePointAt(0) === op) {
          greedy = true;
          pattern = pattern.slice(1);
        }
        return this.withPattern(pattern, () => (op === 0x25 ? trimSuffix(pattern, value ?? '', greedy) : trimPrefix(pattern, value ?? '', greedy)));
      }
      default:
        return this.fail('unsupported-modifier', `unsupported modifier (${modifier}) in substitution`);
    }
  }

  private processReplace(name: string): string {
    const replaceAll = this.peek() === 0x2f;
    if (replaceAll) this.next();
    let pattern: string;
    try {
      pattern = this.processStopOn(0x2f, true).word;
    } catch (err) {
      if (err instanceof WordExpansionError && this.peek() === EOF) this.fail('missing-brace', "syntax error: missing '/' in ${}");
      throw err;
    }
    let replacement: string;
    try {
      replacement = this.processStopOn(0x7d, true).word;
    } catch (err) {
      if (err instanceof WordExpansionError && this.peek() === EOF) this.fail('missing-brace', "syntax error: missing '}'");
      throw err;
    }
    const found = this.lookup(name);
    if (found === undefined && this.modes.skipUnsetEnv) return `\${${name}/${pattern}/${replacement}}`;
    const value = found ?? '';
    const re = this.withPattern(pattern, () => shellPatternToRegex(pattern, true, false, replaceAll ? 'gu' : 'u'));
    return value.replace(re, () => replacement);
  }
}

const NO_NAMES: ReadonlySet<string> = new Set();

/** Expand one word with full detail (single word, split words, matched and unmatched names). */
export function expandWordDetailed(
  word: string,
  env: ExpansionEnv,
  escapeChar = '\\',
  modes: ExpansionModes = {},
  splitWords = true,
): ExpansionResult {
  const sw = new ShellWord(word, env, escapeChar, modes, splitWords);
  const { word: result, words } = sw.processStopOn(EOF, false);
  return { word: result, words, matched: sw.matched ?? NO_NAMES, unmatched: sw.unmatched ?? NO_NAMES };
}

function hasSpecial(word: string, escapeChar: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word[i];
    if (c === '$' || c === "'" || c === '"' || c === escapeChar) return true;
  }
  return false;
}

/** Single-word mode: quotes removed, variables expanded, no splitting (ENV values, WORKDIR, COPY paths...). */
export function expandWord(word: string, env: ExpansionEnv, escapeChar = '\\'): string {
  if (!hasSpecial(word, escapeChar)) return word;
  return expandWordDetailed(word, env, escapeChar, {}, false).word;
}

/** Word-splitting mode: split on unquoted whitespace (including whitespace from unquoted variables). */
export function expandWords(word: string, env: ExpansionEnv, escapeChar = '\\'): string[] {
  return [...expandWordDetailed(word, env, escapeChar).words];
}
