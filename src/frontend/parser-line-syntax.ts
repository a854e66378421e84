// The shape the nearley grammar gives one logical line: keyword token, flag tokens, and the rest token.
import type { Token } from 'moo';

export interface LineSyntax {
  readonly keyword: Token;
  readonly flags: readonly Token[];
  /** Everything after the flags, leading blanks included; it starts with the bare `--` when one ended the flags. */
  readonly rest: Token | null;
}
