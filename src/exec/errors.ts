// Typed errors of the container executor, on both sides of the init's status pipe.
import { KilnError } from '../errors.js';

/** Why a container never started its command: 125 setup failed, 126 not executable, 127 not found (docker run's codes). */
export type StartFailureStatus = 125 | 126 | 127;

/**
 * The container's process could not be started (bad user, missing executable, a mount that failed).
 * `exitCode` is the status `kiln run` exits with, like docker run.
 */
export class ContainerStartError extends KilnError {
  override readonly exitCode: number;
  constructor(
    message: string,
    readonly status: StartFailureStatus,
  ) {
    super(message);
    this.exitCode = status;
  }
}

/** The namespace tooling or the init itself failed before reporting anything (util-linux missing, init crashed). */
export class ExecSetupError extends KilnError {}

/** A resource limit this host cannot enforce: neither cgroup v1 nor cgroup2 offers its controller to kiln. */
export class CgroupUnavailableError extends ExecSetupError {}

/** A COPY / ADD / mkdir action failed inside the file-op namespace; the message is the action's own error text. */
export class FileOpError extends KilnError {
  constructor(
    message: string,
    /** The class name of the error thrown inside, e.g. "CopySourceNotFoundError". */
    readonly innerName: string,
  ) {
    super(message);
  }
}
