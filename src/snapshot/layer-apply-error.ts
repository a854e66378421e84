// The error every layer-unpacking failure is reported as: names the archive member and what was wrong with it.
import { KilnError } from '../errors.js';

/** A layer could not be unpacked: an unsafe member (escape, absolute path, write through a symlink) or a bad archive. */
export class LayerApplyError extends KilnError {}
