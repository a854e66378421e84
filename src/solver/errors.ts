// Errors a build step can end with; each names the step and where it came from.
import { KilnError } from '../errors.js';
import type { Vertex } from '../llb/types.js';

function where(vertex: Vertex): string {
  return vertex.location ? `${vertex.location.file}:${vertex.location.startLine}: ` : '';
}

/** A RUN whose process failed: names the step, its Dockerfile line and the exit code. */
export class BuildStepError extends KilnError {
  constructor(
    readonly vertex: Vertex,
    readonly command: readonly string[],
    readonly processExitCode: number,
  ) {
    super(
      `${where(vertex)}${vertex.name}: process "${command.join(' ')}" did not complete successfully: exit code: ${processExitCode}`,
    );
  }
}

/** Any other failure of a step (a missing COPY source, an unknown user…), with the step's position added. */
export class StepFailedError extends KilnError {
  constructor(
    readonly vertex: Vertex,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${where(vertex)}${vertex.name}: ${reason}`, options);
  }
}

export class BuildCancelledError extends KilnError {
  override readonly exitCode: number = 130;
  constructor() {
    super('build cancelled');
  }
}
