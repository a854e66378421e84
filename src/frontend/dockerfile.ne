# Instruction structure of one logical Dockerfile line: KEYWORD, then any --flags, then the rest of the line
# (which may begin with the bare `--` that ended the flags).
# The grammar is unambiguous with no empty rules, so nearley keeps one derivation per token; `flags` is
# left-recursive, which Earley parses in linear time (right recursion would be quadratic in the flag count).
@preprocessor typescript

@{%
import type { Token } from 'moo';
import { lexerFor } from './lexer.js';
import type { LineSyntax } from './parser-line-syntax.js';
// The default lexer (escape `\`); parser-instruction passes the one for the file's escape character.
const lexer = lexerFor('\\');
%}

@lexer lexer

line -> %keyword {% (d): LineSyntax => ({ keyword: d[0], flags: [], rest: null }) %}
  | %keyword %rest {% (d): LineSyntax => ({ keyword: d[0], flags: [], rest: d[1] }) %}
  | %keyword flags {% (d): LineSyntax => ({ keyword: d[0], flags: d[1], rest: null }) %}
  | %keyword flags %rest {% (d): LineSyntax => ({ keyword: d[0], flags: d[1], rest: d[2] }) %}

# Appending in place is safe: each column holds exactly one `flags` derivation, so the array is never shared
# by two live parses (copying would make long flag lists quadratic).
flags -> %flag {% (d): Token[] => [d[0]] %}
  | flags %flag {% (d): Token[] => { d[0].push(d[1]); return d[0]; } %}
