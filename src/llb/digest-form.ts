// The digest form of a value: what op digests hash. Canonical JSON, except that a long list stands in as its own digest.
import { arrayJson, jsonScalar, objectJson } from './canonical-json.js';
import { sha256Digest } from './sha256.js';

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

const listDigests = new WeakMap<readonly unknown[], string>();

/** The digest-form stand-in of a long list (its JSON string "sha256:<hex>"), computed once per list. */
export function longListJson(list: readonly unknown[], item: (value: unknown) => string): string {
  let json = listDigests.get(list);
  if (json === undefined) {
    json = `"${sha256Digest(arrayJson(list, item))}"`;
    Object.freeze(list);
    listDigests.set(list, json);
  }
  return json;
}

/** The digest form of any value (see LIST_DIGEST_MIN). */
export function digestFormJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return jsonScalar(value);
  if (Array.isArray(value)) {
    return value.length >= LIST_DIGEST_MIN ? longListJson(value, digestFormJson) : arrayJson(value, digestFormJson);
  }
  return objectJson(value as Record<string, unknown>, digestFormJson);
}
