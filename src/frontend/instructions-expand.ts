// Word expansion for one instruction: expansion errors become positioned DockerfileErrors, unmatched names are reported.
import type { InstructionNode } from './ast.js';
import type { DockerfileError } from './dockerfile-error.js';
import { instructionError, type SourceText } from './instructions-error.js';
import { expandWordDetailed, WordExpansionError, type ExpansionEnv, type ExpansionModes } from './shell-lexer.js';

/** Expansion context for the instructions of one Dockerfile. */
export interface Expander {
  readonly source: SourceText;
  readonly escapeChar: string;
  /** Called with every name that was looked up and not found (for the UndefinedVar check). */
  readonly onUnmatched?: (node: InstructionNode, names: ReadonlySet<string>, env: ExpansionEnv) => void;
}

function positioned(ex: Expander, node: InstructionNode, err: unknown): DockerfileError | unknown {
  if (!(err instanceof WordExpansionError)) return err;
  return instructionError(ex.source, node, err.message);
}

function hasSpecial(word: string, escapeChar: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word[i];
    if (c === '$' || c === "'" || c === '"' || c === escapeChar) return true;
  }
  return false;
}

/** Single-word mode (quotes removed, no splitting). */
export function expandAt(ex: Expander, node: InstructionNode, word: string, env: ExpansionEnv, modes?: ExpansionModes): string {
  if (!hasSpecial(word, ex.escapeChar)) return word;
  try {
    const r = expandWordDetailed(word, env, ex.escapeChar, modes, false);
    if (r.unmatched.size > 0) ex.onUnmatched?.(node, r.unmatched, env);
    return r.word;
  } catch (err) {
    throw positioned(ex, node, err);
  }
}

/** Word-splitting mode. */
export function expandWordsAt(ex: Expander, node: InstructionNode, word: string, env: ExpansionEnv): string[] {
  try {
    const r = expandWordDetailed(word, env, ex.escapeChar);
    if (r.unmatched.size > 0) ex.onUnmatched?.(node, r.unmatched, env);
    return [...r.words];
  } catch (err) {
    throw positioned(ex, node, err);
  }
}

/** Expansion with the full result (matched and unmatched names), for FROM and its checks. */
export function expandDetailedAt(ex: Expander, node: InstructionNode, word: string, env: ExpansionEnv) {
  try {
    return expandWordDetailed(word, env, ex.escapeChar, {}, false);
  } catch (err) {
    throw positioned(ex, node, err);
  }
}
