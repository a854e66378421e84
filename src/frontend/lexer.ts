// moo lexer for one logical Dockerfile line: keyword, leading `--flags`, then the untouched rest.
import moo from 'moo';
import { GO_SPACE_CLASS } from './parser-whitespace.js';

/** The escape characters a Dockerfile may choose with `# escape=`. */
export type EscapeChar = '\\' | '`';

const BLANK = `[${GO_SPACE_CLASS}]`;
/** A bare `--` word; quote pairs decode to nothing, so `--""` is bare too. */
export const END_OF_FLAGS = `--(?:""|'')*`;

/**
 * Builds the lexer for one escape character. The line must already be trimmed. The keyword runs to the
 * first `[\t\v\f\r ]` (BuildKit's split); a flag word starts with `--` and runs to the next blank outside
 * quotes, where the escape character keeps the next character in the word. Everything after the flags is
 * one `rest` token, taken as written. A bare `--` (empty quote pairs allowed, since they decode to nothing)
 * ends the flags and starts the rest token; the parser drops it from the arguments.
 */
function buildLexer(escape: EscapeChar): moo.Lexer {
  const e = escape === '\\' ? '\\\\' : '`';
  const unquoted = `[^${GO_SPACE_CLASS}"'${e}]`;
  const escaped = `${e}[^]|${e}$`;
  const dq = `"(?:[^"${e}]|${e}[^]|${e}$)*"?`;
  const sq = `'(?:[^'${e}]|${e}[^]|${e}$)*'?`;
  const flagBody = `(?:${unquoted}|${escaped}|${dq}|${sq})*`;
  return moo.states({
    main: {
      keyword: { match: /[^\t\n\v\f\r ]+/, next: 'flags' },
    },
    flags: {
      // Listed first (moo tries rules in order): the bare end-of-flags word, or text not starting with `--`.
      // `(?!blank)` stops the blank run from backtracking so that a shorter run could dodge the `--` check.
      rest: { match: new RegExp(`${BLANK}+(?!${BLANK})(?:${END_OF_FLAGS}(?=${BLANK}|$)|(?!--))[^]*`), lineBreaks: true },
      flag: { match: new RegExp(`${BLANK}+--${flagBody}`), lineBreaks: true },
    },
  });
}

const lexers = new Map<EscapeChar, moo.Lexer>();

/** The shared lexer for an escape character; nearley resets it for every line, so one instance each suffices. */
export function lexerFor(escape: EscapeChar): moo.Lexer {
  let lexer = lexers.get(escape);
  if (lexer === undefined) {
    lexer = buildLexer(escape);
    lexers.set(escape, lexer);
  }
  return lexer;
}
