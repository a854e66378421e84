// The Dockerfile parser beyond BuildKit's golden files: heredocs, directives, flags, continuations, positions.
import { describe, expect, it } from 'vitest';
import type { DockerfileAst, InstructionNode } from '../../src/frontend/ast.js';
import { DockerfileError } from '../../src/frontend/dockerfile-error.js';
import { dumpAst } from '../../src/frontend/dump.js';
import { goQuote } from '../../src/frontend/go-quote.js';
import { parseDockerfile } from '../../src/frontend/parser.js';

function parse(text: string): DockerfileAst {
  return parseDockerfile(text, 'Dockerfile');
}

function child(text: string, index: number): InstructionNode {
  const node = parse(text).children[index];
  if (node === undefined) throw new Error(`no instruction ${index}`);
  return node;
}

function failure(text: string): DockerfileError {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof DockerfileError) return err;
    throw err;
  }
  throw new Error('parsed without error');
}

describe('heredocs', () => {
  it('collects a RUN heredoc body and counts its lines in the instruction range', () => {
    const ast = parse('FROM a\nRUN <<EOF\necho one\necho two\nEOF\nRUN after\n');
    const run = ast.children[1] as InstructionNode;
    expect(run.heredocs).toEqual([{ name: 'EOF', content: 'echo one\necho two\n', expand: true, chomp: false }]);
    expect([run.startLine, run.endLine]).toEqual([2, 5]);
    expect(ast.children[2]?.startLine).toBe(6);
    expect(dumpAst(ast)).toBe('(from "a")\n(run "<<EOF")\n(run "after")\n');
  });

  it('strips leading tabs from the body and the terminator with <<-', () => {
    const run = child('FROM a\nRUN <<-END\n\t\techo hi\n\t  x\n\tEND\n', 1);
    expect(run.heredocs).toEqual([{ name: 'END', content: 'echo hi\n  x\n', expand: true, chomp: true }]);
    expect(run.endLine).toBe(5);
  });

  it('does not accept a tab-indented terminator without the dash', () => {
    const err = failure('FROM a\nRUN <<END\n\tEND\n');
    expect(err.reason).toMatch(/unterminated heredoc/);
  });

  it('marks double- and single-quoted terminators as not expanded', () => {
    expect(child('FROM a\nRUN <<"EOF"\n$HOME\nEOF\n', 1).heredocs[0]).toEqual({ name: 'EOF', content: '$HOME\n', expand: false, chomp: false });
    expect(child("FROM a\nRUN <<'EOF'\n$HOME\nEOF\n", 1).heredocs[0]?.expand).toBe(false);
    expect(child('FROM a\nRUN <<E"O"F\nx\nEOF\n', 1).heredocs[0]).toMatchObject({ name: 'EOF', expand: false });
  });

  it('reads several heredocs on one line in order, for COPY and ADD too', () => {
    const ast = parse("FROM a\nCOPY <<ONE <<'TWO' /dest/\n1\nONE\n2\nTWO\nADD <<X /x\nx\nX\n");
    const copy = ast.children[1] as InstructionNode;
    expect(copy.heredocs.map((h) => [h.name, h.content, h.expand])).toEqual([
      ['ONE', '1\n', true],
      ['TWO', '2\n', false],
    ]);
    expect([copy.startLine, copy.endLine]).toEqual([2, 6]);
    expect(copy.args).toEqual(['<<ONE', "<<'TWO'", '/dest/']);
    expect(ast.children[2]?.heredocs[0]?.content).toBe('x\n');
    expect([ast.children[2]?.startLine, ast.children[2]?.endLine]).toEqual([7, 9]);
  });

  it('records a file descriptor prefix', () => {
    const run = child('FROM a\nRUN 3<<EOF cat /proc/self/fd/3\nbody\nEOF', 1);
    expect(run.heredocs).toEqual([{ name: 'EOF', content: 'body\n', expand: true, chomp: false, fd: 3 }]);
    expect(run.args).toEqual(['3<<EOF cat /proc/self/fd/3']);
  });

  it('keeps an empty body empty', () => {
    expect(child('FROM a\nRUN <<EOF\nEOF\n', 1).heredocs[0]?.content).toBe('');
  });

  it('takes heredocs only in RUN, COPY and ADD, and never in the JSON form', () => {
    const ast = parse('FROM a\nENV A=<<EOF\nRUN ["cat", "<<EOF"]\nCMD <<EOF\n');
    expect(ast.children.map((c) => [c.keyword, c.heredocs.length])).toEqual([
      ['from', 0],
      ['env', 0],
      ['run', 0],
      ['cmd', 0],
    ]);
  });

  it('ignores << inside quotes or glued to a word', () => {
    const ast = parse('FROM a\nRUN echo "<<EOF" cat<<EOF\nRUN x\n');
    expect(ast.children[1]?.heredocs).toEqual([]);
    expect(ast.children).toHaveLength(3);
  });

  it('attaches ONBUILD heredocs to the trigger and its nested instruction', () => {
    const onbuild = child('FROM a\nONBUILD RUN <<EOF\nhi\nEOF\n', 1);
    expect(onbuild.heredocs).toEqual([{ name: 'EOF', content: 'hi\n', expand: true, chomp: false }]);
    expect(onbuild.next?.heredocs).toEqual(onbuild.heredocs);
    expect(onbuild.endLine).toBe(4);
  });

  it('finds the terminator on CRLF lines and keeps the body bytes as written', () => {
    const run = child('FROM a\r\nRUN <<EOF\r\nhi\r\nEOF\r\n', 1);
    expect(run.heredocs[0]?.content).toBe('hi\r\n');
    expect(run.endLine).toBe(4);
  });

  it('reads the heredoc after a continued instruction line', () => {
    const run = child('FROM a\nRUN cat \\\n  <<EOF\nbody\nEOF\n', 1);
    expect(run.heredocs[0]?.content).toBe('body\n');
    expect([run.startLine, run.endLine]).toEqual([2, 5]);
  });

  it('reports an unterminated heredoc at its marker', () => {
    const err = failure('FROM a\nRUN echo x && cat <<EOF\nline\n');
    expect([err.file, err.line, err.column]).toEqual(['Dockerfile', 2, 19]);
    expect(err.reason).toMatch(/unterminated heredoc/);
    expect(err.sourceLine).toBe('RUN echo x && cat <<EOF');
  });

  it('reports the second unterminated heredoc of a line at its own marker', () => {
    const err = failure('FROM a\nCOPY <<A <<B /x\na\nA\nb\n');
    expect([err.line, err.column]).toEqual([2, 10]);
  });
});

describe('parser directives', () => {
  it('switches the escape character to a backtick for continuations and words', () => {
    const ast = parse('# escape=`\nFROM a\nRUN echo `\n  hi\nENV P C:\\dir\nCOPY --chown=a`:b x y\n');
    expect(ast.escapeChar).toBe('`');
    expect(dumpAst(ast)).toBe('(from "a")\n(run "echo   hi")\n(env "P" "C:\\\\dir" "")\n(copy ["--chown=a:b"] "x" "y")\n');
  });

  it('accepts names in any case, spacing around =, and records every directive with its line', () => {
    const ast = parse('#  SYNTAX = docker/dockerfile:1 \n# Escape=\\\n#check=skip=all\nFROM a\n');
    expect(ast.directives).toEqual([
      { name: 'syntax', value: 'docker/dockerfile:1', line: 1 },
      { name: 'escape', value: '\\', line: 2 },
      { name: 'check', value: 'skip=all', line: 3 },
    ]);
  });

  it('stops looking for directives after an ordinary comment', () => {
    const ast = parse('# hello\n# escape=`\nFROM a\nRUN a `\n');
    expect(ast.escapeChar).toBe('\\');
    expect(ast.directives).toEqual([]);
    expect(ast.children[1]?.args).toEqual(['a `']);
  });

  it('stops looking for directives after a blank line or an unknown directive', () => {
    expect(parse('\n# escape=`\nFROM a\n').directives).toEqual([]);
    expect(parse('# foo=bar\n# escape=`\nFROM a\n').escapeChar).toBe('\\');
  });

  it('treats a directive-looking comment after the first instruction as a comment', () => {
    const ast = parse('FROM a\n# escape=`\nRUN x\n');
    expect(ast.directives).toEqual([]);
    expect(ast.children).toHaveLength(2);
  });

  it('rejects a repeated directive on the line that repeats it', () => {
    const err = failure('# syntax=a\n# escape=`\n# SYNTAX=b\nFROM a\n');
    expect([err.line, err.column]).toEqual([3, 1]);
    expect(err.reason).toMatch(/only one syntax parser directive/);
  });

  it('rejects an escape directive that is neither ` nor \\', () => {
    const err = failure('# escape=x\nFROM a\n');
    expect(err.line).toBe(1);
    expect(err.reason).toMatch(/invalid escape token 'x'/);
  });

  it('accepts a UTF-8 byte order mark before the first directive', () => {
    const ast = parse('\uFEFF# escape=`\nFROM a\n');
    expect(ast.escapeChar).toBe('`');
    expect(ast.lines[0]).toBe('# escape=`');
    expect(ast.children[0]?.startLine).toBe(2);
  });
});

describe('flags', () => {
  it('reads flags on any instruction, removing quotes and applying escapes', () => {
    const ast = parse(
      'FROM --platform=linux/amd64 a AS b\nRUN --mount=type=secret,id="my id" --network=none echo hi\nCOPY --chown=\'a b\' --x=c\\ d s t\n',
    );
    expect(ast.children.map((c) => c.flags)).toEqual([['--platform=linux/amd64'], ['--mount=type=secret,id=my id', '--network=none'], ['--chown=a b', '--x=c d']]);
    expect(ast.children[0]?.args).toEqual(['a', 'AS', 'b']);
    expect(ast.children[1]?.args).toEqual(['echo hi']);
    expect(ast.children[2]?.args).toEqual(['s', 't']);
  });

  it('ends the flags at a bare -- and does not record it', () => {
    const copy = child('COPY --a=1 -- --not-a-flag /x\n', 0);
    expect(copy.flags).toEqual(['--a=1']);
    expect(copy.args).toEqual(['--not-a-flag', '/x']);
  });

  it('treats a word with a single dash as the start of the arguments', () => {
    const run = child('RUN -x --y\n', 0);
    expect(run.flags).toEqual([]);
    expect(run.args).toEqual(['-x --y']);
  });

  it('parses a flag whose quote is never closed up to the end of the line', () => {
    const copy = child('COPY --chown="a b c\n', 0);
    expect(copy.flags).toEqual(['--chown=a b c']);
    expect(copy.args).toEqual([]);
  });

  it('parses many flags on one line in linear time', () => {
    // Continuation lines keep each physical line short while the logical line holds 20,000 flags.
    const line = `COPY \\\n${' --a=1 \\\n'.repeat(20000)} x y\n`;
    const started = performance.now();
    const copy = child(line, 0);
    expect(copy.flags).toHaveLength(20000);
    expect(copy.args).toEqual(['x', 'y']);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('continuations and comments', () => {
  it('joins continued lines directly and keeps the range and the keyword column', () => {
    const ast = parse('FROM a\n  RUN echo one \\\n    two\n');
    const run = ast.children[1] as InstructionNode;
    expect(run.args).toEqual(['echo one     two']);
    expect([run.startLine, run.endLine, run.column]).toEqual([2, 3, 3]);
    expect(run.text).toBe('RUN echo one     two');
  });

  it('skips comments inside a continuation without a warning', () => {
    const ast = parse('FROM a\nRUN a \\\n# note\n  b\n');
    expect(ast.children[1]?.args).toEqual(['a   b']);
    expect(ast.warnings).toEqual([]);
  });

  it('warns about empty continuation lines with rule NoEmptyContinuation', () => {
    const ast = parse('FROM a\nRUN a \\\n\n   \n  b\n');
    expect(ast.children[1]?.args).toEqual(['a   b']);
    expect([ast.children[1]?.startLine, ast.children[1]?.endLine]).toEqual([2, 5]);
    expect(ast.warnings).toEqual([{ rule: 'NoEmptyContinuation', message: 'Empty continuation line found in: RUN a   b', line: 2 }]);
  });

  it('ends an instruction continued at the end of the file', () => {
    const ast = parse('FROM a\nRUN a \\');
    expect(ast.children[1]?.args).toEqual(['a']);
    expect(ast.endLine).toBe(2);
  });

  it('does not continue a line ending in a doubled escape', () => {
    const ast = parse('FROM a\nRUN a \\\\\nRUN b\n');
    expect(ast.children.map((c) => c.args)).toEqual([['a'], ['a \\\\'], ['b']]);
  });

  it('accepts CRLF line endings', () => {
    const ast = parse('FROM a\r\nRUN a \\\r\n  b\r\n');
    expect(dumpAst(ast)).toBe('(from "a")\n(run "a   b")\n');
    expect(ast.lines).toEqual(['FROM a', 'RUN a \\', '  b']);
  });
});

describe('instructions', () => {
  it('accepts keywords in any case and keeps the original spelling', () => {
    const ast = parse('from a\nRuN x\n');
    expect(ast.children.map((c) => [c.keyword, c.original])).toEqual([
      ['from', 'from'],
      ['run', 'RuN'],
    ]);
  });

  it('parses an unknown keyword with no arguments and dumps it like BuildKit', () => {
    const ast = parse('FROM a\nFROBNICATE --x a b\n');
    expect(ast.children[1]).toMatchObject({ keyword: 'frobnicate', flags: ['--x'], args: [] });
    expect(dumpAst(ast)).toBe('(from "a")\n(frobnicate ["--x"] "")\n');
  });

  it('nests ONBUILD instructions with their own flags', () => {
    const ast = parse('FROM a\nONBUILD COPY --from=b x y\nONBUILD ONBUILD RUN z\nONBUILD\n');
    expect(dumpAst(ast)).toBe('(from "a")\n(onbuild (copy ["--from=b"] "x" "y"))\n(onbuild (onbuild (run "z")))\n(onbuild)\n');
    expect(ast.children[1]?.next).toMatchObject({ keyword: 'copy', column: 9, startLine: 2 });
  });

  it('marks the exec form and falls back to the shell form for invalid JSON', () => {
    const ast = parse('CMD ["a", "b"]\nCMD ["a" "b"]\nENTRYPOINT []\nCMD ["a"] tail\n');
    expect(ast.children.map((c) => [c.json, c.args])).toEqual([
      [true, ['a', 'b']],
      [false, ['["a" "b"]']],
      [true, []],
      [false, ['["a"] tail']],
    ]);
  });

  it('shapes ENV, LABEL and ARG words with quotes kept', () => {
    const ast = parse('ENV A="x y" B=z\nLABEL "k"=v\nARG N V="1 2"\n');
    expect(ast.children.map((c) => c.args)).toEqual([['A', '"x y"', '=', 'B', 'z', '='], ['"k"', 'v', '='], ['N', 'V="1 2"']]);
  });
});

describe('errors', () => {
  it('places a legacy ENV without a value on its line', () => {
    const err = failure('FROM a\n\n  ENV PATH\n');
    expect([err.line, err.column]).toEqual([3, 7]);
    expect(err.reason).toMatch(/ENV must have two arguments/);
  });

  it('places a LABEL word without = at that word', () => {
    const err = failure('FROM a\nLABEL a=b \\\n  c\n');
    expect([err.line, err.column]).toEqual([3, 3]);
    expect(err.reason).toMatch(/can't find = in "c"/);
  });

  it('places a JSON array of non-strings at its bracket', () => {
    const err = failure('FROM a\nHEALTHCHECK CMD ["a", 1]\n');
    expect([err.line, err.column]).toEqual([2, 17]);
  });

  it('rejects an empty file and a comments-only file', () => {
    expect([failure('').line, failure('').column]).toEqual([1, 1]);
    expect(failure('# one\n\n# three\n').line).toBe(3);
    expect(failure('# syntax=x\n').reason).toMatch(/no instructions/);
  });

  it('rejects a line of 64 KiB or more on that line, and accepts 65535 bytes', () => {
    const long = `RUN ${'x'.repeat(65536 - 4)}`;
    const err = failure(`FROM a\n${long}\n`);
    expect([err.line, err.column]).toEqual([2, 1]);
    expect(err.reason).toMatch(/max allowed size/);
    expect(err.sourceLine?.length).toBeLessThan(300);
    expect(parse(`FROM a\n${long.slice(1)}\n`).children).toHaveLength(2);
    // Bytes, not characters: 21846 three-byte characters are 65538 bytes.
    expect(failure(`FROM a\nRUN ${'한'.repeat(21846)}\n`).line).toBe(2);
  });

  it('rejects a file that ends in a continuation with no instruction', () => {
    const err = failure('FROM a\n  \\\n\n');
    expect([err.line, err.column]).toEqual([2, 3]);
    expect(err.reason).toMatch(/line continuation with no instruction/);
  });

  it('formats the message with file, position and the source line', () => {
    const err = failure('FROM a\nENV X\n');
    expect(err.message).toBe('Dockerfile:2:5: ENV must have two arguments: write ENV X=<value>\n  2 | ENV X');
  });
});

describe('Go quoting for the dump', () => {
  it('escapes like strconv.Quote', () => {
    expect(goQuote('plain text')).toBe('"plain text"');
    expect(goQuote('"\\')).toBe('"\\"\\\\"');
    expect(goQuote('\x07\b\f\n\r\t\v\x00\x1b\x7f')).toBe('"\\a\\b\\f\\n\\r\\t\\v\\x00\\x1b\\x7f"');
    expect(goQuote('♥☃한é')).toBe('"♥☃한é"');
    expect(goQuote('\u00a0\u200b\u0085')).toBe('"\\u00a0\\u200b\\u0085"');
    expect(goQuote('😀\u{e0001}')).toBe('"😀\\U000e0001"');
    expect(goQuote('\ud800')).toBe('"\ufffd"');
  });
});
