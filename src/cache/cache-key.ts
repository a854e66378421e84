// Cache keys: a pure function of the op and the identities of what it reads, never of time.
import { canonicalJson, sha256Digest } from '../llb/digest.js';
import type { Op } from '../llb/types.js';

/**
 * The key of a step: its op (command, env, user, mounts, file actions…) plus labelled inputs:
 * parent layer chains, base manifest digests, and content checksums of the files it reads.
 */
export function cacheKeyOf(op: Op, inputs: Readonly<Record<string, string>>): string {
  return sha256Digest(canonicalJson({ version: 1, op, inputs }));
}
