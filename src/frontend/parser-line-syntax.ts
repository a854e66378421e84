// The shape the nearley grammar gives one logical line: keyword token, flag tokens, and the tail.
import type { Token } from 'moo';

/** What follows the flags: the rest of the line, or a bare `--` that ended the flags early. */
export type LineTail =
  | { readonly kind: 'rest'; readonly token: Token }
  | { readonly kind: 'endflags'; readonly token: Token; readonly rest: Token | null };

export interface LineSyntax {
  readonly keyword: Token;
  readonly flags: Token[];
  readonly end: LineTail | null;
}
