// Digests of ops: the identity every cache key starts from.
import * as crypto from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { opJson } from './op-json.js';
import type { Digest, Op, SourceLocation, Vertex } from './types.js';

export { canonicalJson } from './canonical-json.js';

// crypto.hash (Node 20.12+) skips building a Hash object: a third of the cost for op-sized inputs.
const oneShot: typeof crypto.hash | undefined = typeof crypto.hash === 'function' ? crypto.hash : undefined;

export function sha256Digest(data: string | Uint8Array): Digest {
  const hex = oneShot !== undefined ? oneShot('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex');
  return `sha256:${hex}`;
}

/**
 * The digest of an op with its inputs, identified by their digests (names and locations are not part of it):
 * sha256 of canonicalJson({ op, inputs: digests }), written without building that object.
 */
export function opDigest(op: Op, inputs: readonly Vertex[]): Digest {
  let json = '{"inputs":[';
  for (let i = 0; i < inputs.length; i++) {
    if (i > 0) json += ',';
    json += canonicalJson(inputs[i]!.digest);
  }
  json += '],"op":';
  json += opJson(op);
  json += '}';
  return sha256Digest(json);
}

export function makeVertex(
  op: Op,
  inputs: readonly Vertex[],
  name: string,
  meta: { readonly location?: SourceLocation; readonly stage?: string } = {},
): Vertex {
  return { digest: opDigest(op, inputs), op, inputs, name, ...meta };
}
