// Canonical JSON: object keys sorted at every level, undefined fields dropped, so equal values give equal bytes.
import { jsonText, type JsonWriter, writeList, writeRecord, writeScalar } from './json-writer.js';

const LIST_CACHE_MIN = 8;
const listBytes = new WeakMap<readonly unknown[], Uint8Array>();

/** Canonical JSON of `value` into a writer; long lists are written once and their bytes reused after. */
export function writeCanonical(w: JsonWriter, value: unknown): void {
  if (value === null || typeof value !== 'object') return writeScalar(w, value);
  if (!Array.isArray(value)) return writeRecord(w, value as Record<string, unknown>, writeCanonical);
  if (value.length < LIST_CACHE_MIN) return writeList(w, value, writeCanonical);
  // Ops are immutable and share long lists (a stage's env is one array for its RUNs).
  const cached = listBytes.get(value);
  if (cached !== undefined) return w.bytes(cached);
  const start = w.length;
  writeList(w, value, writeCanonical);
  // Frozen so a later in-place change fails loudly instead of leaving stale bytes (and a stale digest) behind.
  Object.freeze(value);
  listBytes.set(value, w.bytesFrom(start));
}

/** JSON with object keys sorted at every level, so equal values always give equal bytes. */
export function canonicalJson(value: unknown): string {
  return jsonText(writeCanonical, value);
}
