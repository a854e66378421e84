import { describe, expect, it } from 'vitest';
import { InvalidChmodError, parseChmod } from '../../src/exec/copy-mode.js';

const cases: readonly [spec: string, current: number, isDir: boolean, want: number][] = [
  ['755', 0o600, false, 0o755],
  ['0644', 0o777, true, 0o644],
  ['4755', 0o644, false, 0o4755],
  ['u+x', 0o644, false, 0o744],
  ['+x', 0o644, false, 0o755],
  ['a-w', 0o666, false, 0o444],
  ['g-w,o-rwx', 0o777, false, 0o750],
  ['u=rw,go=r', 0o777, false, 0o644],
  ['go=u', 0o740, false, 0o777],
  ['o=g', 0o750, false, 0o755],
  ['a+X', 0o644, true, 0o755],
  ['a+X', 0o644, false, 0o644],
  ['a+X', 0o744, false, 0o755],
  ['u+s', 0o755, false, 0o4755],
  ['g+s', 0o755, true, 0o2755],
  ['+t', 0o777, true, 0o1777],
  ['u+rwx,g=rx,o=', 0o000, false, 0o750],
  ['u=', 0o4755, false, 0o055],
];

describe('parseChmod', () => {
  for (const [spec, current, isDir, want] of cases) {
    it(`--chmod=${spec} turns ${current.toString(8)} into ${want.toString(8)}${isDir ? ' for a directory' : ''}`, () => {
      expect(parseChmod(spec)(current, isDir).toString(8)).toBe(want.toString(8));
    });
  }

  for (const bad of ['999', '8', 'x+u', 'u+q', 'u+ux', '', 'u', '75555']) {
    it(`rejects --chmod=${JSON.stringify(bad)}`, () => {
      expect(() => parseChmod(bad)).toThrow(InvalidChmodError);
    });
  }
});
