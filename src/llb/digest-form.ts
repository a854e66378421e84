// The digest form of a value: what op digests hash. Canonical JSON, except that a long list stands in as its own digest.
import { jsonText, type JsonWriter, type ValueWriter, writeList, writeRecord, writeScalar } from './json-writer.js';

/**
 * The form, for any JSON value:
 * - a list of fewer than LIST_DIGEST_MIN items, an object or a scalar is written as canonical JSON (keys sorted by
 *   UTF-16 code units, undefined fields dropped), with the digest form of each item or field value inside;
 * - a list of LIST_DIGEST_MIN items or more is written as the JSON string "sha256:<hex>", the sha256 of the list's
 *   own digest form.
 * Op fields that hold lists never hold strings, so the stand-in cannot be mistaken for a value. A stage's environment
 * (about fifty "K=V" entries) is one shared array for all its RUNs: hashing its ~1 kB once, and then only its 71-byte
 * stand-in per RUN, is what makes this pay. Long lists are frozen here, so a later in-place change fails loudly
 * instead of leaving a stale digest behind.
 */
export const LIST_DIGEST_MIN = 8;

/** The stand-in of each long list hashed so far, quotes included. */
const listDigests = new WeakMap<readonly unknown[], string>();

/** Writes the digest-form stand-in of a long list, hashing the list (written with `item`) the first time only. */
export function writeLongList(w: JsonWriter, list: readonly unknown[], item: ValueWriter): void {
  let json = listDigests.get(list);
  if (json === undefined) {
    // Hashed where it is written, then replaced by its stand-in.
    const start = w.length;
    writeList(w, list, item);
    json = `"${w.digestFrom(start)}"`;
    w.truncate(start);
    Object.freeze(list);
    listDigests.set(list, json);
  }
  w.ascii(json);
}

/** The digest form of any value into a writer (see LIST_DIGEST_MIN). */
export function writeDigestForm(w: JsonWriter, value: unknown): void {
  if (value === null || typeof value !== 'object') return writeScalar(w, value);
  if (!Array.isArray(value)) return writeRecord(w, value as Record<string, unknown>, writeDigestForm);
  if (value.length >= LIST_DIGEST_MIN) return writeLongList(w, value, writeDigestForm);
  return writeList(w, value, writeDigestForm);
}

/** The digest form of any value, as text. */
export function digestFormJson(value: unknown): string {
  return jsonText(writeDigestForm, value);
}
