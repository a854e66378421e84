import { describe, expect, it } from 'vitest';
import { ExcludeMatcher, IgnorePattern, parseDockerignore } from '../../src/disk/dockerignore.js';
import { BadPatternError } from '../../src/disk/path-pattern.js';

type Pass = 'exact' | 'inexact' | 'fail';

// Cases from moby/patternmatcher's own test table.
const single: readonly [string, string, Pass][] = [
  ['**', 'file', 'exact'],
  ['**', 'file/', 'exact'],
  ['**/', 'file', 'exact'],
  ['**/', 'file/', 'exact'],
  ['**', '/', 'exact'],
  ['**', 'dir/file', 'exact'],
  ['**/**', 'dir/file', 'exact'],
  ['dir/**', 'dir/file', 'exact'],
  ['dir/**', 'dir/dir2/file', 'exact'],
  ['**/dir', 'dir', 'exact'],
  ['**/dir', 'dir/file', 'inexact'],
  ['**/dir2/*', 'dir/dir2/file', 'exact'],
  ['**/dir2/*', 'dir/dir2/file/', 'inexact'],
  ['**/dir2/**', 'dir/dir2/dir3/file', 'exact'],
  ['**file', 'file', 'exact'],
  ['**file', 'dir/file', 'exact'],
  ['**/file', 'dir/file', 'exact'],
  ['**file', 'dir/dir/file', 'exact'],
  ['**/file*', 'dir/dir/file.txt', 'exact'],
  ['**/file*txt', 'dir/dir/file.txt', 'exact'],
  ['**/**/*.txt', 'dir/dir/file.txt', 'exact'],
  ['**/**/*.txt2', 'dir/dir/file.txt', 'fail'],
  ['**/*.txt', 'file.txt', 'exact'],
  ['a**/*.txt', 'a/file.txt', 'exact'],
  ['a**/*.txt', 'a/dir/dir/file.txt', 'exact'],
  ['a/*.txt', 'a/dir/file.txt', 'fail'],
  ['a/*.txt', 'a/file.txt', 'exact'],
  ['a/*.txt**', 'a/file.txt', 'exact'],
  ['a[b-d]e', 'ae', 'fail'],
  ['a[b-d]e', 'ace', 'exact'],
  ['a[^b-d]e', 'aze', 'exact'],
  ['.*', '.foo', 'exact'],
  ['.*', 'foo', 'fail'],
  ['abc.def', 'abcdef', 'fail'],
  ['abc.def', 'abc.def', 'exact'],
  ['abc?def', 'abcZdef', 'exact'],
  ['abc?def', 'abcdef', 'fail'],
  ['**/foo/bar', 'foo/bar', 'exact'],
  ['**/foo/bar', 'dir/dir2/foo/bar', 'exact'],
  ['abc/**', 'abc', 'fail'],
  ['abc/**', 'abc/def/ghi', 'exact'],
  ['**/.foo', '.foo', 'exact'],
  ['**/.foo', 'bar.foo', 'fail'],
  ['a(b)c/def', 'a(b)c/def', 'exact'],
  ['a(b)c/def', 'a(b)c/xyz', 'fail'],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', 'exact'],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'exact'],
  ['a\\\\', 'a\\', 'exact'],
  ['a\\*b', 'a*b', 'exact'],
  ['docs', 'docs/README.md', 'inexact'],
  ['node_modules', 'node_modules/a/b.js', 'inexact'],
];

describe('IgnorePattern and ExcludeMatcher follow moby/patternmatcher', () => {
  for (const [pattern, text, pass] of single) {
    it(`${JSON.stringify(pattern)} on ${JSON.stringify(text)} is ${pass}`, () => {
      expect(new IgnorePattern(pattern).match(text)).toBe(pass === 'exact');
      const m = new ExcludeMatcher([pattern]);
      expect(m.isExcluded(text)).toBe(pass !== 'fail');
      expect(walkExcluded(m, text)).toBe(pass !== 'fail');
    });
  }

  const multi: readonly [readonly string[], string, boolean][] = [
    [['**', '!util/docker/web'], 'util/docker/web/foo', false],
    [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', true],
    [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
    [['!fileutils.go', '*.go'], 'fileutils.go', true],
    [['*.go', '!fileutils.go'], 'fileutils.go', false],
    [['docs', '!docs/README.md'], 'docs/README.md', false],
    [['docs/', '!docs/README.md'], 'docs/README.md', false],
    [['docs/*', '!docs/README.md'], 'docs/README.md', false],
    [['docs', '!docs/README.md'], 'docs/other.md', true],
    [['*.md', '!README*.md', 'README-secret.md'], 'README-secret.md', true],
    [['*.md', '!README*.md', 'README-secret.md'], 'README.md', false],
  ];
  for (const [patterns, text, want] of multi) {
    it(`${JSON.stringify(patterns)} on ${text}: the last matching pattern wins (${want})`, () => {
      const m = new ExcludeMatcher(patterns);
      expect(m.isExcluded(text)).toBe(want);
      expect(walkExcluded(m, text)).toBe(want);
    });
  }

  it('never excludes the context root itself', () => {
    expect(new ExcludeMatcher(['*']).isExcluded('.')).toBe(false);
  });

  it('rejects malformed patterns and a lone "!"', () => {
    expect(() => new ExcludeMatcher(['['])).toThrow(BadPatternError);
    expect(() => new ExcludeMatcher(['!'])).toThrow(/illegal exclusion pattern/);
  });
});

/** Answers the way a walk does: matching each parent in turn and handing its info down. */
function walkExcluded(m: ExcludeMatcher, text: string): boolean {
  const parts = text.split('/').filter((p) => p !== '');
  let info: readonly boolean[] = [];
  for (let i = 1; i < parts.length; i += 1) info = m.matchInWalk(parts.slice(0, i).join('/'), info).info;
  return m.matchInWalk(text, info).excluded;
}

describe('excluded directories are walked only when an exception may match inside', () => {
  const cases: readonly [readonly string[], string, boolean][] = [
    [['docs'], 'docs', false],
    [['docs', '!docs/README.md'], 'docs', true],
    [['docs', '!other/README.md'], 'docs', false],
    [['docs', '!docs/keep/**'], 'docs', true],
    [['docs', '!*.md'], 'docs', true],
    [['a/b', '!a/b/c'], 'a/b', true],
    [['a', '!ab'], 'a', false],
  ];
  for (const [patterns, dir, want] of cases) {
    it(`${JSON.stringify(patterns)} walks ${dir}: ${want}`, () => {
      expect(new ExcludeMatcher(patterns).mustWalkExcludedDir(dir)).toBe(want);
    });
  }
});

describe('parseDockerignore', () => {
  it('drops comments and blank lines, trims, cleans and strips a leading slash', () => {
    const text = '\uFEFF# comment\n\n  node_modules  \n/build/\n!/build/keep.txt\n./src/../tmp\n*.log\r\n  # not a comment\n! spaced\n';
    expect(parseDockerignore(text)).toEqual(['node_modules', 'build', '!build/keep.txt', 'tmp', '*.log', '# not a comment', '!spaced']);
  });

  it('keeps "/" alone, as Docker does', () => {
    expect(parseDockerignore('/\n')).toEqual(['/']);
  });
});
