// JSON written as UTF-8 bytes into one reusable buffer: canonical JSON and op digests are built and hashed in place.
import { sha256Digest } from './sha256.js';
import type { Digest } from './types.js';

const INITIAL_BYTES = 16 * 1024;
/** A buffer grown past this (a large heredoc, say) is let go once nothing is being written into it. */
const KEPT_BYTES = 1024 * 1024;

/**
 * Appends JSON to a byte buffer. Writes nest: a caller notes `length`, writes, reads or hashes the bytes from
 * there, and truncates back to it, so a list can be hashed where it was written and replaced by its digest.
 */
export class JsonWriter {
  private buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  length = 0;

  private reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  /** Text that is ASCII and needs no escaping as it is (punctuation, keys, digests, numbers). */
  ascii(text: string): void {
    this.reserve(text.length);
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /**
   * A JSON string, byte for byte what JSON.stringify writes, as UTF-8. Printable ASCII is copied as it is checked;
   * a string with anything else (a quote, a backslash, a control character, non-ASCII) is written again by
   * JSON.stringify, which also escapes lone surrogates.
   */
  string(text: string): void {
    const start = this.length;
    this.reserve(text.length + 2);
    const buffer = this.buffer;
    let at = start;
    buffer[at++] = 0x22;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        this.length = start;
        this.utf8(JSON.stringify(text));
        return;
      }
      buffer[at++] = c;
    }
    buffer[at++] = 0x22;
    this.length = at;
  }

  /** JSON text already written elsewhere (it may hold non-ASCII characters). */
  utf8(text: string): void {
    this.reserve(text.length * 3);
    this.length += this.buffer.write(text, this.length, 'utf8');
  }

  /** Bytes written before, e.g. the cached form of a long list. */
  bytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** A copy of the bytes from `start`. */
  bytesFrom(start: number): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buffer, start, this.length);
  }

  /** The bytes from `start` as text. */
  textFrom(start: number): string {
    return this.buffer.toString('utf8', start, this.length);
  }

  /** The sha256 of the bytes from `start`. */
  digestFrom(start: number): Digest {
    return sha256Digest(this.buffer.subarray(start, this.length));
  }

  /** Drops what was written from `start` on. */
  truncate(start: number): void {
    this.length = start;
    if (start === 0 && this.buffer.length > KEPT_BYTES) this.buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  }
}

/** The one writer: everything written into it is synchronous, and nested writers truncate back to where they began. */
export const jsonWriter = new JsonWriter();

/** Writes one JSON value. */
export type ValueWriter = (w: JsonWriter, value: unknown) => void;

/** What JSON.stringify writes for a non-object value, and null where it writes nothing (undefined, functions). */
export function writeScalar(w: JsonWriter, value: unknown): void {
  switch (typeof value) {
    case 'string':
      w.string(value);
      return;
    case 'boolean':
      w.ascii(value ? 'true' : 'false');
      return;
    case 'number':
      // Integers print the same either way (-0 too); other numbers keep JSON's rules (NaN and Infinity are null).
      w.ascii(Number.isSafeInteger(value) ? String(value) : JSON.stringify(value));
      return;
    default:
      w.ascii(JSON.stringify(value) ?? 'null');
  }
}

/** A list; `item` writes each item that is not a string. */
export function writeList(w: JsonWriter, list: readonly unknown[], item: ValueWriter): void {
  w.ascii('[');
  for (let i = 0; i < list.length; i++) {
    const value: unknown = list[i];
    if (i > 0) w.ascii(',');
    if (typeof value === 'string') w.string(value);
    else item(w, value);
  }
  w.ascii(']');
}

/** An object with its keys sorted and undefined fields dropped; `field` writes each non-string field value. */
export function writeRecord(w: JsonWriter, record: Readonly<Record<string, unknown>>, field: ValueWriter): void {
  // Array.prototype.sort without a comparator orders by UTF-16 code units, like the < comparison.
  const keys = Object.keys(record).sort();
  w.ascii('{');
  let written = 0;
  for (const key of keys) {
    const value = record[key];
    if (value === undefined) continue;
    if (written++ > 0) w.ascii(',');
    w.string(key);
    w.ascii(':');
    if (typeof value === 'string') w.string(value);
    else field(w, value);
  }
  w.ascii('}');
}

/** `value` written by `write`, as text. */
export function jsonText(write: ValueWriter, value: unknown): string {
  const start = jsonWriter.length;
  try {
    write(jsonWriter, value);
    return jsonWriter.textFrom(start);
  } finally {
    jsonWriter.truncate(start);
  }
}
