import { describe, expect, it } from 'vitest';
import { expandWord, expandWordDetailed, expandWords, WordExpansionError } from '../../src/frontend/shell-lexer.js';

const env = new Map([
  ['FILE', 'archive.tar.gz'],
  ['PATHV', '/usr/local/bin/app'],
  ['WORDS', 'a b  c'],
  ['EMPTY', ''],
]);

describe('pattern operators', () => {
  it.each([
    ['${FILE#*.}', 'tar.gz'],
    ['${FILE##*.}', 'gz'],
    ['${FILE%.*}', 'archive.tar'],
    ['${FILE%%.*}', 'archive'],
    ['${PATHV#/usr}', '/local/bin/app'],
    ['${PATHV/bin/sbin}', '/usr/local/sbin/app'],
    ['${FILE/a/A}', 'Archive.tar.gz'],
    ['${FILE//a/A}', 'Archive.tAr.gz'],
    ['${FILE//?a/_}', 'archive._r.gz'],
    ['${FILE%\\*}', 'archive.tar.gz'],
    ['${UNSET#x}', ''],
    // BuildKit keeps escapes raw in the replacement text.
    ['${FILE/./\\}}', 'archive\\}tar.gz'],
  ])('%s expands to %s', (word, expected) => {
    expect(expandWord(word, env)).toBe(expected);
  });

  it('rejects ${V:#p} and ${V:%p} as unsupported modifiers', () => {
    expect(() => expandWord('${FILE:#a}', env)).toThrow(/unsupported modifier \(:#\)/);
    expect(() => expandWord('${FILE:%a}', env)).toThrow(/unsupported modifier \(:%\)/);
  });

  it('rejects an invalid escape in a pattern', () => {
    expect(() => expandWord('${FILE#\\a}', env)).toThrow(/invalid pattern/);
  });
});

describe('required variables', () => {
  it('names the variable and the message of ${V:?msg}', () => {
    try {
      expandWord('${NOPE:?must be set}', env);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(WordExpansionError);
      const e = err as WordExpansionError;
      expect(e.kind).toBe('required-variable');
      expect(e.variable).toBe('NOPE');
      expect(e.detail).toBe('NOPE: must be set');
    }
  });

  it('uses a default message for an empty variable with ${V:?}', () => {
    expect(() => expandWord('${EMPTY:?}', env)).toThrow('EMPTY: is not allowed to be empty');
  });
});

describe('escape character', () => {
  it('uses the backtick as escape when the Dockerfile says so', () => {
    expect(expandWord('C:\\dir`$FILE', env, '`')).toBe('C:\\dir$FILE');
    expect(expandWord('"a`"b"', env, '`')).toBe('a"b');
  });
});

describe('word splitting', () => {
  it('splits an unquoted variable on whitespace and keeps a quoted one whole', () => {
    expect(expandWords('$WORDS "$WORDS"', env)).toEqual(['a', 'b', 'c', 'a b  c']);
  });

  it('gives zero words for an empty quoted string', () => {
    expect(expandWords('""', env)).toEqual([]);
  });
});

describe('lookups', () => {
  it('reports which names were found and which were not', () => {
    const r = expandWordDetailed('$FILE ${MISSING:-x} $EMPTY', env);
    expect([...r.matched].sort()).toEqual(['EMPTY', 'FILE']);
    expect([...r.unmatched]).toEqual(['MISSING']);
  });
});
