import { describe, expect, it } from 'vitest';
import { alignRow, displayWidth, formatBytes, formatTransfer, terminalSafe, truncateToWidth } from '../../src/progress/tty-format.js';

describe('terminalSafe', () => {
  it.each([
    ['plain text', 'plain text'],
    ['colour \x1b[1;31mred\x1b[0m', 'colour red'],
    ['progress 10%\rprogress 99%', 'progress 99%'],
    ['windows line\r', 'windows line'],
    ['title\x1b]0;hello\x07 after', 'title after'],
    ['bell\x07 and backspace\x08', 'bell and backspace'],
    ['a\tb', 'a       b'],
    ['abcdefgh\tx', 'abcdefgh        x'],
  ])('makes %j print as %j', (input, expected) => {
    expect(terminalSafe(input)).toBe(expected);
  });
});

describe('display width', () => {
  it('counts East Asian wide characters as two columns and combining marks as none', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('漢字')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
  });

  it('never cuts a wide character in half', () => {
    expect(truncateToWidth('漢字漢字', 5)).toBe('漢字');
    expect(truncateToWidth('abc', 0)).toBe('');
  });

  it('puts the time flush with the last column and cuts the name when both do not fit', () => {
    expect(alignRow(' => RUN a', '1.0s', 20)).toBe(' => RUN a       1.0s');
    expect(alignRow(` => RUN ${'x'.repeat(40)}`, '12.5s', 20)).toBe(' => RUN xxxxxx 12.5s');
    expect(alignRow(' => RUN a', '1.0s', 9)).toBe(' => RUN a');
  });
});

describe('sizes and bars', () => {
  it.each([
    [0, '0B'],
    [999, '999B'],
    [1000, '1.0kB'],
    [12_345_678, '12.3MB'],
    [27_000_000_000, '27.0GB'],
  ])('prints %d bytes as %s', (bytes, expected) => {
    expect(formatBytes(bytes)).toBe(expected);
  });

  it('draws a twenty-column bar with the percentage and both sizes', () => {
    expect(formatTransfer(12_300_000, 27_000_000)).toBe('[=========>          ] 45% 12.3MB/27.0MB');
    expect(formatTransfer(0, 100)).toBe('[>                   ] 0% 0B/100B');
    expect(formatTransfer(100, 100)).toBe('[====================] 100% 100B/100B');
    expect(formatTransfer(5_000, undefined)).toBe('5.0kB');
  });
});
