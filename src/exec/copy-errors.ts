// Typed errors of COPY / ADD / mkdir / mkfile actions.
import { KilnError } from '../errors.js';

/** The destination cannot take the copy: a file where a directory is needed, or the other way round. */
export class CopyDestinationError extends KilnError {}

/** An archive entry (or its link target) would land outside the directory it is extracted into. */
export class ArchiveBreakoutError extends KilnError {
  constructor(readonly archive: string, readonly entry: string) {
    super(`ADD ${archive}: archive entry ${JSON.stringify(entry)} points outside the destination directory; refusing to extract it`);
  }
}

/** A source file was replaced between the walk and the copy (it is never copied then: it could be a link out of the context). */
export class CopySourceChangedError extends KilnError {}
