# Instruction structure of one logical Dockerfile line: KEYWORD, zero or more --flags, then an
# optional end: a bare `--` (ends the flags, may be followed by the rest) or the rest of the line.
# The grammar is LL(1) on purpose: one token of lookahead decides every step, so nearley never
# builds ambiguous parses and each instruction parses in time linear in its token count.
@preprocessor typescript

@{%
import { lexerFor } from './lexer.js';
import type { Token } from 'moo';
import type { LineSyntax, LineTail } from './parser-line-syntax.js';
const lexer = lexerFor('\\');
%}

@lexer lexer

line -> %keyword flags tail {% (d): LineSyntax => ({ keyword: d[0], flags: d[1], end: d[2] }) %}

flags -> null {% (): Token[] => [] %}
  | flags %flag {% (d): Token[] => [...d[0], d[1]] %}

tail -> null {% (): LineTail | null => null %}
  | %rest {% (d): LineTail => ({ kind: 'rest', token: d[0] }) %}
  | %endflags {% (d): LineTail => ({ kind: 'endflags', token: d[0], rest: null }) %}
  | %endflags %rest {% (d): LineTail => ({ kind: 'endflags', token: d[0], rest: d[1] }) %}
