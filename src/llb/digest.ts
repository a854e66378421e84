// Digests of ops: the identity of a vertex in the graph (the solver's cache keys are computed apart, in src/cache).
import { LIST_DIGEST_MIN, writeDigestForm } from './digest-form.js';
import { jsonWriter } from './json-writer.js';
import { writeOp } from './op-json.js';
import type { Digest, Op, SourceLocation, Vertex } from './types.js';

export { canonicalJson } from './canonical-json.js';
export { digestFormJson } from './digest-form.js';
export { sha256Digest } from './sha256.js';

/** What a vertex carries besides its op and inputs (not part of its digest). */
export interface VertexMeta {
  readonly location?: SourceLocation;
  readonly stage?: string;
}

/**
 * The digest of an op with its inputs, identified by their digests (names and locations are not part of it):
 * sha256 of digestFormJson({ op, inputs: digests }), written as bytes without building that object. The digest
 * form is canonical JSON with long lists (a stage's env) standing in as their own digests: see digest-form.ts.
 */
export function opDigest(op: Op, inputs: readonly Vertex[]): Digest {
  const w = jsonWriter;
  const start = w.length;
  try {
    w.ascii('{"inputs":');
    if (inputs.length >= LIST_DIGEST_MIN) {
      writeDigestForm(w, inputs.map((input) => input.digest));
    } else {
      w.ascii('[');
      for (let i = 0; i < inputs.length; i++) {
        if (i > 0) w.ascii(',');
        w.string(inputs[i]!.digest);
      }
      w.ascii(']');
    }
    w.ascii(',"op":');
    writeOp(w, op);
    w.ascii('}');
    return w.digestFrom(start);
  } finally {
    w.truncate(start);
  }
}

/** A vertex with the op, inputs and digest of `like` (they do not depend on names or locations) under another name. */
export function renameVertex(like: Vertex, name: string, meta: VertexMeta = {}): Vertex {
  return vertexOf(like.digest, like.op, like.inputs, name, meta);
}

export function makeVertex(
  op: Op,
  inputs: readonly Vertex[],
  name: string,
  meta: VertexMeta = {},
): Vertex {
  return vertexOf(opDigest(op, inputs), op, inputs, name, meta);
}

function vertexOf(digest: Digest, op: Op, inputs: readonly Vertex[], name: string, meta: VertexMeta): Vertex {
  const { location, stage } = meta;
  // Written as literals rather than spread: a spread puts the optional fields in a separate property store, one
  // more object per vertex for the garbage collector to copy (a large Dockerfile makes thousands of vertices).
  if (location === undefined) return stage === undefined ? { digest, op, inputs, name } : { digest, op, inputs, name, stage };
  return stage === undefined ? { digest, op, inputs, name, location } : { digest, op, inputs, name, location, stage };
}
