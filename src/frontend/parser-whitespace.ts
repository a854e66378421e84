// The whitespace classes BuildKit's parser uses, spelled once: Go's unicode.IsSpace and its `[\t\v\f\r ]` blank run.

/** Characters for which Go's unicode.IsSpace is true (all in the BMP), as a regex class body. */
export const GO_SPACE_CLASS = '\\t\\n\\v\\f\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';

const LEADING_SPACE = new RegExp(`^[${GO_SPACE_CLASS}]+`);
const TRAILING_SPACE = new RegExp(`[${GO_SPACE_CLASS}]+$`);
const BLANK_RUN = /[\t\v\f\r ]+/;

/** Go's unicode.IsSpace for one UTF-16 unit (every Go space is a single BMP unit). */
export function isGoSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0x85) return false;
  return (
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/** Length of the leading run of Go spaces. */
export function leadingSpaceLength(s: string): number {
  let i = 0;
  while (i < s.length && isGoSpace(s.charCodeAt(i))) i++;
  return i;
}

export function trimLeftSpace(s: string): string {
  return s.length > 0 && isGoSpace(s.charCodeAt(0)) ? s.replace(LEADING_SPACE, '') : s;
}

/** Go's strings.TrimSpace. */
export function trimSpace(s: string): string {
  if (s.length === 0) return s;
  const left = isGoSpace(s.charCodeAt(0)) ? s.replace(LEADING_SPACE, '') : s;
  return left.length > 0 && isGoSpace(left.charCodeAt(left.length - 1)) ? left.replace(TRAILING_SPACE, '') : left;
}

/** Splits on runs of `[\t\v\f\r ]` like BuildKit's reWhitespace (no quote handling); "" gives no words. */
export function splitBlanks(s: string): string[] {
  return s === '' ? [] : s.split(BLANK_RUN);
}

/** Splits at the first run of blanks into at most two parts, like Go's reWhitespace.Split(s, 2). */
export function splitBlanksOnce(s: string): [string] | [string, string] {
  const m = BLANK_RUN.exec(s);
  if (m === null) return [s];
  return [s.slice(0, m.index), s.slice(m.index + m[0].length)];
}
