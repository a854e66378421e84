// The positioned failure the parser's inner modules throw; parseDockerfile turns it into a DockerfileError.

/** A parse failure at a 1-based line and column, before the file name and source excerpt are attached. */
export class ParseFailure extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(reason);
    this.name = 'ParseFailure';
  }
}

/** A failure inside one instruction's text, at a UTF-16 offset of its logical line; the caller maps it to a position. */
export class InstructionSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(reason);
    this.name = 'InstructionSyntaxError';
  }
}
