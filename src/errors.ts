// Base error types shared by every folder: each carries the process exit code kiln should end with.

/** An error kiln reports to the user as one clear message; `exitCode` is what the CLI exits with. */
export class KilnError extends Error {
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad flags or arguments on the command line (exit 2, like docker). */
export class UsageError extends KilnError {
  override readonly exitCode: number = 2;
}

/** A feature that parses but is not implemented yet: always names where it was asked for. */
export class NotSupportedError extends KilnError {}
