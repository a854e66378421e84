// Canonical bytes and digests of ops: the identity every cache key starts from.
import { createHash } from 'node:crypto';
import type { Digest, Op, SourceLocation, Vertex } from './types.js';

/** JSON with object keys sorted at every level, so equal values always give equal bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256Digest(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The digest of an op with its inputs, identified by their digests (names and locations are not part of it). */
export function opDigest(op: Op, inputs: readonly Vertex[]): Digest {
  return sha256Digest(canonicalJson({ op, inputs: inputs.map((input) => input.digest) }));
}

export function makeVertex(
  op: Op,
  inputs: readonly Vertex[],
  name: string,
  meta: { readonly location?: SourceLocation; readonly stage?: string } = {},
): Vertex {
  return { digest: opDigest(op, inputs), op, inputs, name, ...meta };
}
