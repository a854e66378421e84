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
 * inside single quotes where it is plain text.
 */
export function quoteAwareWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  const n = rest.length;
  let inWord = false;
  let quote = '';
  let word = '';
  let blankOk = false;
  for (let pos = 0; pos < n; pos++) {
    let ch = rest[pos] as string;
    if (!inWord && quote === '') {
      if (isGoSpace(ch.charCodeAt(0))) continue;
      inWord = true;
    }
    if (quote === '') {
      if (isGoSpace(ch.charCodeAt(0))) {
        if (blankOk || word !== '') words.push(word);
        inWord = false;
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
      } else if (ch === escape) {
        if (pos + 1 === n) continue; // an escape at the very end is dropped
        pos++;
        word += ch;
        ch = rest[pos] as string;
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      quote = '';
    } else if (ch === escape && quote !== "'") {
      if (pos + 1 === n) {
        quote = '';
        continue;
      }
      pos++;
      word += ch;
      ch = rest[pos] as string;
    }
    word += ch;
  }
  if ((inWord || quote !== '') && (blankOk || word !== '')) words.push(word);
  return words;
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
