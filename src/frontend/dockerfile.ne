# Instruction structure of one logical Dockerfile line: KEYWORD, then any --flags, then the rest of the line
# (which may begin with the bare `--` that ended the flags).
# The grammar is unambiguous with no empty rules, so nearley keeps one derivation per token. The keyword is read
# either alone or as the head of `flagged`, so after it only three states are live and nothing is predicted:
# most lines are two tokens, and the parser's work per line is what the benchmark of the frontend pays most for.
# `flagged` is left-recursive, which Earley parses in linear time (right recursion would be quadratic).
@preprocessor typescript

@{%
import type { Token } from 'moo';
import { lexerFor } from './lexer.js';
import type { LineSyntax } from './parser-line-syntax.js';
// The default lexer (escape `\`); parser-instruction passes the one for the file's escape character.
const lexer = lexerFor('\\');
const NO_FLAGS: readonly Token[] = [];
/** A keyword with one or more flags so far. */
interface Flagged {
  readonly keyword: Token;
  readonly flags: Token[];
  readonly rest: null;
}
%}

@lexer lexer

line -> %keyword {% (d): LineSyntax => ({ keyword: d[0], flags: NO_FLAGS, rest: null }) %}
  | %keyword %rest {% (d): LineSyntax => ({ keyword: d[0], flags: NO_FLAGS, rest: d[1] }) %}
  | flagged {% (d): LineSyntax => d[0] %}
  | flagged %rest {% (d): LineSyntax => ({ keyword: d[0].keyword, flags: d[0].flags, rest: d[1] }) %}

# Appending in place is safe: each column holds exactly one `flagged` derivation, so its array is never shared
# by two live parses (copying would make long flag lists quadratic).
flagged -> %keyword %flag {% (d): Flagged => ({ keyword: d[0], flags: [d[1]], rest: null }) %}
  | flagged %flag {% (d): Flagged => { d[0].flags.push(d[1]); return d[0]; } %}
