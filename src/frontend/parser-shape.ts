// Per-instruction argument shaping: how BuildKit's parser turns the text after the flags into dump items.
import { goQuote } from './go-quote.js';
import { InstructionSyntaxError } from './parser-failure.js';
import { isGoSpace, splitBlanks, splitBlanksOnce, trimLeftSpace } from './parser-whitespace.js';

export interface ShapedArgs {
  readonly args: readonly string[];
  readonly json: boolean;
}

/** Shapes `rest` (trimmed, flags removed); errors carry offsets into `rest`. */
type Shaper = (rest: string, escape: string, keyword: string) => ShapedArgs;

const NONE: ShapedArgs = { args: [], json: false };
const NOT_STRINGS = 'when using JSON array syntax, arrays must be comprised of strings only';

/**
 * The elements of `rest` when it is a JSON array of strings, or null when it is not JSON at all (the
 * instruction then falls back to its shell or blank-split form). A valid array holding anything other
 * than strings is an error, as in BuildKit.
 */
function jsonStrings(rest: string): string[] | null {
  const text = trimLeftSpace(rest);
  if (text.charCodeAt(0) !== 0x5b /* [ */) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) return null;
    throw err;
  }
  if (!Array.isArray(value)) return null;
  for (const item of value) {
    if (typeof item !== 'string') throw new InstructionSyntaxError(NOT_STRINGS, rest.length - text.length);
  }
  return value as string[];
}

/** RUN, CMD, ENTRYPOINT, SHELL: a JSON array, else the whole rest as one shell string. */
function maybeJson(rest: string): ShapedArgs {
  if (rest === '') return NONE;
  const items = jsonStrings(rest);
  return items === null ? { args: [rest], json: false } : { args: items, json: true };
}

/** ADD, COPY, VOLUME: a JSON array, else the rest split on blanks. */
function maybeJsonList(rest: string): ShapedArgs {
  const items = jsonStrings(rest);
  return items === null ? { args: splitBlanks(rest), json: false } : { args: items, json: true };
}

function blankSplit(rest: string): ShapedArgs {
  return { args: splitBlanks(rest), json: false };
}

function wholeString(rest: string): ShapedArgs {
  return rest === '' ? NONE : { args: [rest], json: false };
}

function isAsciiSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/** HEALTHCHECK: the first word (CMD, NONE, ...), then the remainder shaped like CMD. */
function healthcheck(rest: string): ShapedArgs {
  let sep = 0;
  while (sep < rest.length && !isAsciiSpace(rest.charCodeAt(sep))) sep++;
  if (sep === 0) return NONE;
  let next = sep;
  while (next < rest.length && isAsciiSpace(rest.charCodeAt(next))) next++;
  let cmd: ShapedArgs;
  try {
    cmd = maybeJson(rest.slice(next));
  } catch (err) {
    if (err instanceof InstructionSyntaxError) throw new InstructionSyntaxError(err.reason, err.offset + next);
    throw err;
  }
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}

/**
 * Quote-aware words (ARG, and the form detection of ENV and LABEL): split on Go spaces outside quotes;
 * quote characters stay in the word; the escape character keeps itself and the next character, except
 * inside single quotes where it is plain text. Since everything is kept, each word is a slice of `rest`,
 * except that an escape character at the very end of `rest` is dropped.
 */
export function quoteAwareWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  const n = rest.length;
  const esc = escape.charCodeAt(0);
  let start = -1;
  let quote = 0;
  let pos = 0;
  for (; pos < n; pos++) {
    const c = rest.charCodeAt(pos);
    if (quote === 0) {
      if (isGoSpace(c)) {
        if (start >= 0) words.push(rest.slice(start, pos));
        start = -1;
        continue;
      }
      if (start < 0) start = pos;
      if (c === 0x22 || c === 0x27) quote = c;
      else if (c === esc && pos + 1 < n) pos++;
      continue;
    }
    if (c === quote) quote = 0;
    else if (c === esc && quote !== 0x27 && pos + 1 < n) pos++;
  }
  if (start >= 0) {
    const end = rest.charCodeAt(n - 1) === esc && endsInDroppedEscape(rest, start, esc) ? n - 1 : n;
    if (end > start) words.push(rest.slice(start, end));
  }
  return words;
}

/** True when the escape character ending `rest` is a lone trailing escape (dropped), not one escaped itself. */
function endsInDroppedEscape(rest: string, start: number, esc: number): boolean {
  let quote = 0;
  for (let pos = start; pos < rest.length; pos++) {
    const c = rest.charCodeAt(pos);
    if (pos === rest.length - 1) return c === esc && quote !== 0x27;
    if (quote === 0) {
      if (c === 0x22 || c === 0x27) quote = c;
      else if (c === esc) pos++;
    } else if (c === quote) {
      quote = 0;
    } else if (c === esc && quote !== 0x27) {
      pos++;
    }
  }
  return false;
}

/** ENV and LABEL: legacy `KEY value...` or `k=v ...`; three items per pair (key, value, separator). */
function keyValues(rest: string, escape: string, keyword: string): ShapedArgs {
  const words = quoteAwareWords(rest, escape);
  if (words.length === 0) return NONE;
  const first = words[0] as string;
  if (!first.includes('=')) {
    const parts = splitBlanksOnce(rest);
    if (parts.length < 2) {
      throw new InstructionSyntaxError(`${keyword.toUpperCase()} must have two arguments: write ${keyword.toUpperCase()} ${parts[0]}=<value>`, 0);
    }
    return { args: [parts[0], parts[1] as string, ''], json: false };
  }
  const args: string[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) {
      throw new InstructionSyntaxError(
        `Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`,
        Math.max(0, rest.indexOf(word)),
      );
    }
    args.push(word.slice(0, eq), word.slice(eq + 1), '=');
  }
  return { args, json: false };
}

function argWords(rest: string, escape: string): ShapedArgs {
  return { args: quoteAwareWords(rest, escape), json: false };
}

const SHAPERS: ReadonlyMap<string, Shaper> = new Map<string, Shaper>([
  ['add', maybeJsonList],
  ['arg', argWords],
  ['cmd', maybeJson],
  ['copy', maybeJsonList],
  ['entrypoint', maybeJson],
  ['env', keyValues],
  ['expose', blankSplit],
  ['from', blankSplit],
  ['healthcheck', healthcheck],
  ['label', keyValues],
  ['maintainer', wholeString],
  ['run', maybeJson],
  ['shell', maybeJson],
  ['stopsignal', wholeString],
  ['user', wholeString],
  ['volume', maybeJsonList],
  ['workdir', wholeString],
]);

/** True for the keywords BuildKit's parser knows (ONBUILD included); others parse with no arguments. */
export function isKnownKeyword(keyword: string): boolean {
  return keyword === 'onbuild' || SHAPERS.has(keyword);
}

/** Shapes the arguments of a non-ONBUILD instruction; unknown keywords keep none. */
export function shapeArgs(keyword: string, rest: string, escape: string): ShapedArgs {
  const shaper = SHAPERS.get(keyword);
  return shaper === undefined ? NONE : shaper(rest, escape, keyword);
}
