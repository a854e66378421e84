import { describe, expect, it } from 'vitest';
import { BadPatternError, cleanPath, hasWildcards, matchSegment, SourcePattern } from '../../src/disk/path-pattern.js';

// Go's filepath.Match table (single-segment cases).
const goMatch: readonly [string, string, boolean | 'bad'][] = [
  ['abc', 'abc', true],
  ['*', 'abc', true],
  ['*c', 'abc', true],
  ['a*', 'a', true],
  ['a*', 'abc', true],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false],
  ['ab[c]', 'abc', true],
  ['ab[b-d]', 'abc', true],
  ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false],
  ['ab[^b-d]', 'abc', false],
  ['ab[^e-g]', 'abc', true],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'ab', false],
  ['a?b', 'a☺b', true],
  ['a[^a]b', 'a☺b', true],
  ['a???b', 'a☺b', false],
  ['[a-ζ]*', 'α', true],
  ['*[a-ζ]', 'A', false],
  ['[\\]a]', ']', true],
  ['[\\-]', '-', true],
  ['[x\\-]', 'x', true],
  ['[x\\-]', '-', true],
  ['[x\\-]', 'z', false],
  ['[\\-x]', 'x', true],
  ['[\\-x]', 'a', false],
  ['[!a]', '!', true],
  ['[!a]', 'b', false],
  ['*.txt', 'a.txt', true],
  ['*.txt', '.txt', true],
  ['file.?', 'file.c', true],
  ['a.b', 'axb', false],
  ['(x)+', '(x)+', true],
  ['[]a]', ']', 'bad'],
  ['[-]', '-', 'bad'],
  ['[x-]', 'x', 'bad'],
  ['[-x]', 'x', 'bad'],
  ['\\', 'a', 'bad'],
  ['[a-b-c]', 'a', 'bad'],
  ['[', 'a', 'bad'],
  ['[^', 'a', 'bad'],
  ['[^bc', 'a', 'bad'],
  ['a[', 'a', 'bad'],
  ['*x', 'xxx', true],
];

describe('matchSegment follows Go filepath.Match', () => {
  for (const [pattern, name, want] of goMatch) {
    it(`${JSON.stringify(pattern)} against ${JSON.stringify(name)} is ${want}`, () => {
      if (want === 'bad') expect(() => matchSegment(pattern, name)).toThrow(BadPatternError);
      else expect(matchSegment(pattern, name)).toBe(want);
    });
  }
});

describe('SourcePattern matches whole relative paths segment by segment', () => {
  const cases: readonly [string, string, boolean][] = [
    ['*.txt', 'a.txt', true],
    ['*.txt', 'dir/a.txt', false],
    ['*/a.txt', 'dir/a.txt', true],
    ['dir/*', 'dir/x', true],
    ['dir/*', 'dir/x/y', false],
    ['**/*.go', 'main.go', true],
    ['**/*.go', 'a/b/c.go', true],
    ['src/**', 'src', true],
    ['src/**', 'src/a/b', true],
    ['src/**/x', 'src/x', true],
    ['src/**/x', 'src/a/b/x', true],
    ['src/**/x', 'src/a/b/y', false],
    ['./dir/*.md', 'dir/README.md', true],
  ];
  for (const [pattern, rel, want] of cases) {
    it(`${pattern} against ${rel} is ${want}`, () => {
      expect(new SourcePattern(pattern).matches(rel)).toBe(want);
    });
  }

  it('tells when a directory may hold matches, so a walk can skip the rest', () => {
    const p = new SourcePattern('src/*/x.go');
    expect(p.couldMatchInside('')).toBe(true);
    expect(p.couldMatchInside('src')).toBe(true);
    expect(p.couldMatchInside('src/a')).toBe(true);
    expect(p.couldMatchInside('src/a/x.go')).toBe(false);
    expect(p.couldMatchInside('lib')).toBe(false);
    expect(new SourcePattern('**/x').couldMatchInside('any/where')).toBe(true);
  });
});

describe('helpers', () => {
  it('detects wildcards but not escaped ones', () => {
    expect(hasWildcards('a*')).toBe(true);
    expect(hasWildcards('a[bc]')).toBe(true);
    expect(hasWildcards('a\\*')).toBe(false);
    expect(hasWildcards('plain.txt')).toBe(false);
  });

  it('cleans paths like Go path.Clean', () => {
    expect(cleanPath('')).toBe('.');
    expect(cleanPath('./a//b/../c/')).toBe('a/c');
    expect(cleanPath('/../a')).toBe('/a');
    expect(cleanPath('../../a')).toBe('../../a');
    expect(cleanPath('a/..')).toBe('.');
  });
});
