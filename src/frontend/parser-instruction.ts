// One logical line → InstructionNode: moo tokens, the nearley grammar for keyword/flags/rest, then shaping.
import type { Token } from 'moo';
import nearley from 'nearley';
import type { HeredocNode, InstructionNode } from './ast.js';
import grammar from './dockerfile-grammar.js';
import { END_OF_FLAGS, type EscapeChar, lexerFor } from './lexer.js';
import { InstructionSyntaxError } from './parser-failure.js';
import type { LineSyntax } from './parser-line-syntax.js';
import type { LinePositions } from './parser-position.js';
import { shapeArgs } from './parser-shape.js';
import { leadingSpaceLength, trimSpace } from './parser-whitespace.js';

// The lexer only starts a rest token with `--` when it is the bare end-of-flags word.
const BARE_END_OF_FLAGS = new RegExp(`^${END_OF_FLAGS}`);
const NO_HEREDOCS: readonly HeredocNode[] = [];
const NO_FLAGS: readonly string[] = Object.freeze([]);

interface Keyword {
  readonly original: string;
  readonly keyword: string;
}

/** Keywords as written, with their lower case: a Dockerfile spells a handful of them thousands of times. */
const keywords = new Map<string, Keyword>();
const KEYWORDS_KEPT = 256;

/** One shared pair of strings per spelling, instead of two new strings per instruction for the life of the build. */
function keywordOf(text: string): Keyword {
  let found = keywords.get(text);
  if (found === undefined) {
    found = { original: text, keyword: text.toLowerCase() };
    // Real keywords are short (and so never slices holding on to a whole line of some earlier Dockerfile).
    if (text.length <= 12 && keywords.size < KEYWORDS_KEPT) keywords.set(text, found);
  }
  return found;
}
const compiled = nearley.Grammar.fromCompiled(grammar as unknown as nearley.CompiledRules);

/** Where the instruction sits in the file; `positions` maps offsets of the logical line to columns. */
export interface InstructionPlace {
  readonly startLine: number;
  readonly endLine: number;
  readonly positions: LinePositions;
}

interface ReusableParser {
  readonly parser: nearley.Parser;
  /** The parser's first column, saved before any token: restoring it starts a fresh parse. */
  readonly start: ReturnType<nearley.Parser['save']>;
}

const parsers = new Map<EscapeChar, ReusableParser>();

/**
 * A nearley parser per escape character, rewound with restore() for every line. Building a Parser per line
 * costs more than the parse itself; the first column is never changed by later tokens (the grammar has no
 * empty rules, and history is not kept), so restoring it is a clean start.
 */
function parserFor(escape: EscapeChar): ReusableParser {
  let reusable = parsers.get(escape);
  if (reusable === undefined) {
    // moo lexers implement nearley's lexer protocol; the two packages' typings just spell it differently.
    const parser = new nearley.Parser(compiled, { lexer: lexerFor(escape) as unknown as nearley.Lexer });
    reusable = { parser, start: parser.save() };
    parsers.set(escape, reusable);
  }
  return reusable;
}

function lineSyntax(text: string, escape: EscapeChar): LineSyntax {
  const { parser, start } = parserFor(escape);
  parser.restore(start);
  parser.feed(text);
  const results = parser.results as LineSyntax[];
  // The grammar is unambiguous and accepts every token sequence the lexer can produce, so exactly one parse exists.
  if (results.length !== 1) throw new Error(`internal: ${results.length} parses of a Dockerfile line`);
  return results[0] as LineSyntax;
}

/** Removes quotes and applies the escape character in a flag token, as BuildKit's flag scanner does. */
function decodeFlag(raw: string, escape: string): string {
  const start = leadingSpaceLength(raw);
  // Most flags hold neither quotes nor the escape character: the word is the text itself.
  if (!hasQuoteOrEscape(raw, start, escape)) return raw.slice(start);
  let out = '';
  let quote = '';
  for (let i = start; i < raw.length; i++) {
    const ch = raw[i] as string;
    if (quote === '' && (ch === '"' || ch === "'")) {
      quote = ch;
      continue;
    }
    if (ch === quote) {
      quote = '';
      continue;
    }
    if (ch === escape) {
      // An escape character at the end of the line is dropped.
      if (i + 1 < raw.length) out += raw[++i] as string;
      continue;
    }
    out += ch;
  }
  return out;
}

function hasQuoteOrEscape(raw: string, from: number, escape: string): boolean {
  const esc = escape.charCodeAt(0);
  for (let i = from; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x22 || c === 0x27 || c === esc) return true;
  }
  return false;
}

/** The trimmed text after the flags and its offset in the line, without a bare `--` that ended the flags. */
function restOf(token: Token | null, lineLength: number): { rest: string; restOffset: number } {
  if (token === null) return { rest: '', restOffset: lineLength };
  const raw = token.text;
  let skip = leadingSpaceLength(raw);
  // Only a rest token that starts with `--` can start with the bare end-of-flags word.
  if (raw.charCodeAt(skip) === 0x2d && raw.charCodeAt(skip + 1) === 0x2d) {
    const marker = BARE_END_OF_FLAGS.exec(raw.slice(skip));
    if (marker !== null) skip += marker[0].length;
    skip += leadingSpaceLength(raw.slice(skip));
  }
  return { rest: trimSpace(skip === 0 ? raw : raw.slice(skip)), restOffset: token.offset + skip };
}

/**
 * Parses one instruction from `line` (a logical line, or the rest of an ONBUILD line), whose text starts at
 * `base` in the logical line. Heredocs are attached later by the caller.
 */
export function parseInstruction(line: string, escape: EscapeChar, place: InstructionPlace, base = 0): InstructionNode {
  const start = base + leadingSpaceLength(line);
  const text = trimSpace(line);
  const syntax = lineSyntax(text, escape);
  const { original, keyword } = keywordOf(syntax.keyword.text);
  let flags: readonly string[] = NO_FLAGS;
  if (syntax.flags.length > 0) {
    // Sized to the tokens (a bare `--` shortens it): nodes live as long as the build, pushed arrays keep spare room.
    const decoded = new Array<string>(syntax.flags.length);
    let count = 0;
    for (const token of syntax.flags) {
      const flag = decodeFlag(token.text, escape);
      if (flag !== '--') decoded[count++] = flag;
    }
    decoded.length = count;
    flags = decoded;
  }
  const { rest, restOffset } = restOf(syntax.rest, text.length);
  const column = place.positions.columnAt(start);
  let args: readonly string[] = [];
  let json = false;
  let next: InstructionNode | undefined;
  if (keyword === 'onbuild') {
    if (rest !== '') next = parseInstruction(rest, escape, place, start + restOffset);
  } else {
    try {
      const shaped = shapeArgs(keyword, rest, escape);
      args = shaped.args;
      json = shaped.json;
    } catch (err) {
      if (err instanceof InstructionSyntaxError) throw new InstructionSyntaxError(err.reason, start + restOffset + err.offset);
      throw err;
    }
  }
  const node: InstructionNode = {
    keyword,
    original,
    flags,
    args,
    json,
    heredocs: NO_HEREDOCS,
    startLine: place.startLine,
    endLine: place.endLine,
    column,
    text,
  };
  return next === undefined ? node : { ...node, next };
}
