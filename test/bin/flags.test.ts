// Docker-style flag parsing, and the usage errors that name the flag.
import { describe, expect, it } from 'vitest';
import { keyValues, parseFlags } from '../../src/bin/flags.js';
import { UsageError } from '../../src/errors.js';

const SPEC = {
  tag: { type: 'string', short: 't', multiple: true },
  rm: { type: 'boolean' },
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 'T' },
  env: { type: 'string', short: 'e', multiple: true },
} as const;

describe('parseFlags', () => {
  it('reads long, long=value, short and combined short flags', () => {
    const parsed = parseFlags('x', ['-t', 'a', '--tag=b', '-tc', '--rm', '-iT', 'ctx'], SPEC);
    expect(parsed.values).toEqual({ tag: ['a', 'b', 'c'], rm: true, interactive: true, tty: true });
    expect(parsed.positionals).toEqual(['ctx']);
  });

  it('leaves everything after the first positional alone when asked (kiln run IMAGE ARGS)', () => {
    const parsed = parseFlags('run', ['--rm', 'busybox', 'ls', '-l', '--rm'], SPEC, true);
    expect(parsed.values).toEqual({ rm: true });
    expect(parsed.positionals).toEqual(['busybox', 'ls', '-l', '--rm']);
  });

  it('names an unknown flag in a usage error', () => {
    expect(() => parseFlags('build', ['--nope'], SPEC)).toThrow(new UsageError('kiln build: unknown flag: --nope'));
    expect(() => parseFlags('build', ['-z'], SPEC)).toThrow(/unknown shorthand flag: 'z'/);
    expect(() => parseFlags('build', ['--tag'], SPEC)).toThrow(/--tag needs a value/);
  });

  it('takes K=V pairs and a bare K from the environment, like docker', () => {
    expect(keyValues('build', '--build-arg', ['A=1', 'B=', 'C=x=y', 'HOME_X'], { HOME_X: '/h' })).toEqual({ A: '1', B: '', C: 'x=y', HOME_X: '/h' });
    expect(() => keyValues('build', '--build-arg', ['=v'])).toThrow(UsageError);
  });
});
