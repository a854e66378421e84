// Canonical bytes and digests of ops: the identity every cache key starts from.
import { createHash } from 'node:crypto';
import type { Digest, Op, SourceLocation, Vertex } from './types.js';

const LIST_CACHE_MIN = 8;
const listBytes = new WeakMap<readonly unknown[], string>();

/** JSON with object keys sorted at every level, so equal values always give equal bytes. */
export function canonicalJson(value: unknown): string {
  // Hot path of lowering (every op is digested): plain loops and string appends, no intermediate arrays.
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    // Ops are immutable and share their long lists (a stage's env is one array for all its RUNs): reuse the bytes.
    const cached = value.length >= LIST_CACHE_MIN ? listBytes.get(value) : undefined;
    if (cached !== undefined) return cached;
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (i > 0) out += ',';
      out += typeof item === 'string' ? JSON.stringify(item) : canonicalJson(item);
    }
    out += ']';
    if (value.length >= LIST_CACHE_MIN) {
      // Frozen so a later in-place change fails loudly instead of leaving a stale digest behind.
      Object.freeze(value);
      listBytes.set(value, out);
    }
    return out;
  }
  const record = value as Record<string, unknown>;
  // Array.prototype.sort without a comparator orders by UTF-16 code units, like the < comparison.
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${typeof item === 'string' ? JSON.stringify(item) : canonicalJson(item)}`;
    first = false;
  }
  return `${out}}`;
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
