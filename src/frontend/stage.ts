// Split a Dockerfile into its global ARGs and build stages, each a FROM and its typed instructions.
import type { DockerfileAst, InstructionNode } from './ast.js';
import { instructionError, InstructionProblem } from './instructions-error.js';
import { parseInstruction } from './instructions-parse.js';
import type { ArgInstruction, FromInstruction, Instruction, StageInstruction } from './instructions.js';

export interface StageDefinition {
  readonly index: number;
  /** Lower-cased `AS` name. */
  readonly name?: string;
  readonly from: FromInstruction;
  readonly instructions: readonly StageInstruction[];
}

export interface ParsedDockerfile {
  readonly ast: DockerfileAst;
  readonly metaArgs: readonly ArgInstruction[];
  readonly stages: readonly StageDefinition[];
}

/** Parse one node, turning an InstructionProblem into a positioned DockerfileError. */
export function parseNodeAt(ast: Pick<DockerfileAst, 'file' | 'lines'>, node: InstructionNode): Instruction {
  try {
    return parseInstruction(node);
  } catch (err) {
    if (err instanceof InstructionProblem) throw instructionError(ast, node, err.message);
    throw err;
  }
}

export function parseStages(ast: DockerfileAst): ParsedDockerfile {
  const metaArgs: ArgInstruction[] = [];
  const stages: { index: number; name?: string; from: FromInstruction; instructions: StageInstruction[] }[] = [];
  for (const node of ast.children) {
    const instruction = parseNodeAt(ast, node);
    if (instruction.kind === 'from') {
      stages.push({ index: stages.length, name: instruction.stageName, from: instruction, instructions: [] });
      continue;
    }
    const current = stages.at(-1);
    if (current === undefined) {
      if (instruction.kind === 'arg') {
        metaArgs.push(instruction);
        continue;
      }
      throw instructionError(
        ast,
        node,
        `no build stage in current context: ${node.original} must come after a FROM instruction (only ARG may come before the first FROM)`,
      );
    }
    current.instructions.push(instruction);
  }
  if (stages.length === 0) {
    const last = ast.children.at(-1);
    if (last === undefined) throw new InstructionProblem('the Dockerfile cannot be empty');
    throw instructionError(ast, last, 'dockerfile contains no stages to build (add a FROM instruction)');
  }
  return { ast, metaArgs, stages };
}

/** The first stage that reuses an earlier stage's name, if any (BuildKit refuses to build it). */
export function duplicateStage(stages: readonly StageDefinition[]): StageDefinition | undefined {
  const seen = new Set<string>();
  for (const stage of stages) {
    if (stage.name === undefined) continue;
    if (seen.has(stage.name)) return stage;
    seen.add(stage.name);
  }
  return undefined;
}
