// Positioned errors for instructions: FILE:LINE:COL plus the offending source line.
import type { InstructionNode } from './ast.js';
import { KilnError } from '../errors.js';
import { DockerfileError } from './dockerfile-error.js';

/** A problem with one instruction (bad flag, wrong argument count...), before it gets a position. */
export class InstructionProblem extends KilnError {}

/** What an error needs from the Dockerfile: its name and source lines. */
export interface SourceText {
  readonly file: string;
  readonly lines: readonly string[];
}

export function instructionError(source: SourceText, node: InstructionNode, reason: string): DockerfileError {
  return new DockerfileError(source.file, node.startLine, node.column, reason, source.lines[node.startLine - 1]);
}
