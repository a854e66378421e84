// The one error type for bad Dockerfiles: always positioned, always shows the offending line.
import { KilnError } from '../errors.js';

export class DockerfileError extends KilnError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
    readonly sourceLine?: string,
  ) {
    super(`${file}:${line}:${column}: ${reason}${sourceLine === undefined ? '' : `\n  ${line} | ${sourceLine}`}`);
  }
}
