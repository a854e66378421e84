# Instruction structure of one logical Dockerfile line: KEYWORD, then any --flags, then an optional end:
# a bare `--` (ends the flags, may be followed by the rest) or the rest of the line.
# The grammar is unambiguous with no empty rules, so nearley keeps one derivation per token; `flags` is
# left-recursive, which Earley parses in linear time (right recursion would be quadratic in the flag count).
@preprocessor typescript

@{%
import type { Token } from 'moo';
import { lexerFor } from './lexer.js';
import type { LineSyntax, LineTail } from './parser-line-syntax.js';
// The default lexer (escape `\`); parser-instruction passes the one for the file's escape character.
const lexer = lexerFor('\\');
%}

@lexer lexer

line -> %keyword {% (d): LineSyntax => ({ keyword: d[0], flags: [], end: null }) %}
  | %keyword flags {% (d): LineSyntax => ({ keyword: d[0], flags: d[1], end: null }) %}
  | %keyword tail {% (d): LineSyntax => ({ keyword: d[0], flags: [], end: d[1] }) %}
  | %keyword flags tail {% (d): LineSyntax => ({ keyword: d[0], flags: d[1], end: d[2] }) %}

# Appending in place is safe: each column holds exactly one `flags` derivation, so the array is never shared
# by two live parses (copying would make long flag lists quadratic).
flags -> %flag {% (d): Token[] => [d[0]] %}
  | flags %flag {% (d): Token[] => { d[0].push(d[1]); return d[0]; } %}

tail -> %rest {% (d): LineTail => ({ kind: 'rest', token: d[0] }) %}
  | %endflags {% (d): LineTail => ({ kind: 'endflags', token: d[0], rest: null }) %}
  | %endflags %rest {% (d): LineTail => ({ kind: 'endflags', token: d[0], rest: d[1] }) %}
