// --cache-to / --cache-from value parsing: local caches are accepted, everything else is a usage error naming the flag.
import { describe, expect, it } from 'vitest';
import { parseCacheOption, type CacheFlag } from '../../src/cache/cache-option.js';
import { UsageError } from '../../src/errors.js';

describe('parseCacheOption', () => {
  const accepted: [string, CacheFlag, object][] = [
    ['type=local,dest=/tmp/c', '--cache-to', { type: 'local', dest: '/tmp/c', mode: 'min' }],
    ['type=local,dest=out,mode=max', '--cache-to', { type: 'local', dest: 'out', mode: 'max' }],
    ['mode=min,dest=out,type=local', '--cache-to', { type: 'local', dest: 'out', mode: 'min' }],
    ['type=local,"dest=/tmp/a,b"', '--cache-to', { type: 'local', dest: '/tmp/a,b', mode: 'min' }],
    ['type=local,src=/tmp/c', '--cache-from', { type: 'local', src: '/tmp/c', mode: 'min' }],
  ];
  for (const [text, flag, expected] of accepted) {
    it(`reads ${flag} ${text}`, () => {
      expect(parseCacheOption(text, flag)).toEqual(expected);
    });
  }

  const refused: [string, CacheFlag, RegExp][] = [
    ['type=registry,ref=user/app:cache', '--cache-to', /--cache-to type=registry is not supported yet/],
    ['type=gha', '--cache-from', /--cache-from type=gha is not supported yet/],
    ['type=floppy,dest=x', '--cache-to', /--cache-to type=floppy is unknown/],
    ['user/app:cache', '--cache-from', /invalid --cache-from .*not KEY=VALUE/],
    ['dest=/tmp/c', '--cache-to', /invalid --cache-to .*type= is required/],
    ['type=local', '--cache-to', /dest=DIR is required/],
    ['type=local,dest=/tmp/c', '--cache-from', /unknown key "dest"/],
    ['type=local,src=/tmp/c,mode=max', '--cache-from', /unknown key "mode"/],
    ['type=local,dest=x,mode=all', '--cache-to', /mode must be min or max/],
    ['type=local,dest=x,dest=y', '--cache-to', /dest is given twice/],
    ['type=local,"dest=x', '--cache-to', /unterminated quote/],
  ];
  for (const [text, flag, message] of refused) {
    it(`refuses ${flag} ${text}`, () => {
      expect(() => parseCacheOption(text, flag)).toThrow(UsageError);
      expect(() => parseCacheOption(text, flag)).toThrow(message);
    });
  }
});
