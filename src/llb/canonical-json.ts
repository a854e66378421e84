// Canonical JSON: object keys sorted at every level, undefined fields dropped, so equal values give equal bytes.

const LIST_CACHE_MIN = 8;
const listBytes = new WeakMap<readonly unknown[], string>();

/** The cached canonical bytes of a long list, if it was serialized before. */
function cachedListJson(list: readonly unknown[]): string | undefined {
  return list.length >= LIST_CACHE_MIN ? listBytes.get(list) : undefined;
}

/** Remember a long list's bytes; ops are immutable and share long lists (a stage's env is one array for its RUNs). */
function rememberListJson(list: readonly unknown[], json: string): void {
  if (list.length < LIST_CACHE_MIN) return;
  // Frozen so a later in-place change fails loudly instead of leaving stale bytes (and a stale digest) behind.
  Object.freeze(list);
  listBytes.set(list, json);
}

// What JSON.stringify escapes in a string: quote, backslash, control characters and (lone) surrogates.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify(text), without its per-call cost for the common string that needs no escapes. */
export function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** JSON of a non-object value: what JSON.stringify writes, and null where it writes nothing (undefined, functions). */
export function jsonScalar(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return jsonString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // Integers print the same either way (-0 too); other numbers keep JSON's rules (NaN and Infinity are null).
      return Number.isSafeInteger(value) ? String(value) : JSON.stringify(value);
    default:
      return JSON.stringify(value) ?? 'null';
  }
}

/** JSON with object keys sorted at every level, so equal values always give equal bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return jsonScalar(value);
  if (Array.isArray(value)) {
    const cached = cachedListJson(value);
    if (cached !== undefined) return cached;
    const out = arrayJson(value, canonicalJson);
    rememberListJson(value, out);
    return out;
  }
  return objectJson(value as Record<string, unknown>, canonicalJson);
}

/** A list; `valueJson` writes each item that is not a string. */
export function arrayJson(list: readonly unknown[], valueJson: (value: unknown) => string): string {
  let out = '[';
  for (let i = 0; i < list.length; i++) {
    const item: unknown = list[i];
    if (i > 0) out += ',';
    out += typeof item === 'string' ? jsonString(item) : valueJson(item);
  }
  return `${out}]`;
}

/** An object with its keys sorted and undefined fields dropped; `valueJson` writes each non-string field value. */
export function objectJson(record: Readonly<Record<string, unknown>>, valueJson: (value: unknown) => string): string {
  // Array.prototype.sort without a comparator orders by UTF-16 code units, like the < comparison.
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    if (out.length > 1) out += ',';
    out += jsonString(key);
    out += ':';
    out += typeof item === 'string' ? jsonString(item) : valueJson(item);
  }
  return `${out}}`;
}
