// moo lexer for one logical Dockerfile line: keyword, leading `--flags`, then the untouched rest.
import moo from 'moo';

/** The escape characters a Dockerfile may choose with `# escape=`. */
export type EscapeChar = '\\' | '`';

// Go's unicode.IsSpace applied to single bytes (what BuildKit's flag scanner sees), in a JS character class.
const FLAG_BLANK = '[\\t\\n\\v\\f\\r \\x85\\xA0]';

function escapeForClass(ch: EscapeChar): string {
  return ch === '\\' ? '\\\\' : '`';
}

/**
 * Builds the lexer for one escape character. A flag word starts with `--` and runs to the next blank
 * outside quotes; inside and outside quotes the escape character keeps the next character in the word.
 * A bare `--` (quotes that decode to nothing allowed) ends the flags; everything after the flags is one
 * `rest` token that the instruction shaping reads as written.
 */
function buildLexer(escape: EscapeChar): moo.Lexer {
  const e = escapeForClass(escape);
  const unquoted = `[^\\t\\n\\v\\f\\r \\x85\\xA0"'${e}]`;
  const escaped = `${e}[^]|${e}$`;
  const dq = `"(?:[^"${e}]|${e}[^]|${e}$)*"?`;
  const sq = `'(?:[^'${e}]|${e}[^]|${e}$)*'?`;
  const flagBody = `(?:${unquoted}|${escaped}|${dq}|${sq})*`;
  return moo.states({
    main: {
      keyword: { match: /[^\t\v\f\r ]+/, next: 'flags' },
    },
    flags: {
      endflags: { match: new RegExp(`${FLAG_BLANK}+--(?:""|'')*(?=${FLAG_BLANK}|$)`), lineBreaks: true, next: 'rest' },
      flag: { match: new RegExp(`${FLAG_BLANK}+--${flagBody}`), lineBreaks: true },
      rest: { match: new RegExp(`${FLAG_BLANK}+[^]*`), lineBreaks: true, next: 'rest' },
    },
    rest: {
      rest: { match: /[^]+/, lineBreaks: true },
    },
  });
}

const lexers = new Map<EscapeChar, moo.Lexer>();

/** The shared lexer for an escape character; moo lexers are reset per line, so one instance each suffices. */
export function lexerFor(escape: EscapeChar): moo.Lexer {
  let lexer = lexers.get(escape);
  if (lexer === undefined) {
    lexer = buildLexer(escape);
    lexers.set(escape, lexer);
  }
  return lexer;
}
