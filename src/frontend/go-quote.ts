// Go's strconv.Quote for the AST dump: BuildKit's golden files are written with it, and JSON.stringify differs.

const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols (plus the ASCII space, handled above).
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

const NAMED: Readonly<Record<number, string>> = {
  0x07: '\\a',
  0x08: '\\b',
  0x0c: '\\f',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
  0x0b: '\\v',
};

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function quoteRune(cp: number, ch: string): string {
  if (cp === 0x22) return '\\"';
  if (cp === 0x5c) return '\\\\';
  if (cp === 0x20 || (cp > 0x7e && cp !== 0x7f && PRINTABLE.test(ch))) return ch;
  if (cp > 0x20 && cp < 0x7f) return ch;
  const named = NAMED[cp];
  if (named !== undefined) return named;
  if (cp < 0x20 || cp === 0x7f) return `\\x${hex(cp, 2)}`;
  if (cp < 0x10000) return `\\u${hex(cp, 4)}`;
  return `\\U${hex(cp, 8)}`;
}

/** Quotes `s` exactly as Go's strconv.Quote would quote the same text encoded as UTF-8. */
export function goQuote(s: string): string {
  if (PLAIN.test(s)) return `"${s}"`;
  let out = '"';
  for (const ch of s) {
    let cp = ch.codePointAt(0) ?? 0xfffd;
    // A lone surrogate cannot exist in Go text: its UTF-8 encoding becomes U+FFFD, which prints raw.
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    out += quoteRune(cp, String.fromCodePoint(cp));
  }
  return `${out}"`;
}
