// Layer blobs arrive gzip-compressed or as plain tar; tell them apart by their first bytes, never by a media type.
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotSupportedError } from '../errors.js';

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

export type Compression = 'gzip' | 'none';

/** The uncompressed bytes of a (possibly gzip-compressed) tar stream. */
export async function* decompressed(source: AsyncIterable<Uint8Array>, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLength = 0;
  while (headLength < ZSTD_MAGIC.length) {
    const next = await iterator.next();
    if (next.done === true) break;
    head.push(Buffer.from(next.value));
    headLength += next.value.byteLength;
  }
  const first = Buffer.concat(head);
  const rest: AsyncIterable<Buffer> = {
    async *[Symbol.asyncIterator]() {
      try {
        if (first.length > 0) yield first;
        for (;;) {
          const next = await iterator.next();
          if (next.done === true) return;
          yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        }
      } finally {
        // Closes the source (a file stream) when reading stops early.
        await iterator.return?.();
      }
    },
  };

  const compression = detect(first);
  if (compression === 'none') {
    yield* rest;
    return;
  }
  // Bigger output chunks than zlib's 16 KiB default: fewer hops through the tar reader and file writes.
  const gunzip = createGunzip({ chunkSize: 128 * 1024 });
  // The feeding side runs concurrently with our reads of gunzip; its failure surfaces through gunzip too.
  const feeding = (signal ? pipeline(Readable.from(rest), gunzip, { signal }) : pipeline(Readable.from(rest), gunzip)).catch(
    (error: unknown) => error,
  );
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
    const failure = await feeding;
    if (failure instanceof Error) throw failure;
  } finally {
    // Stops the feeding side when our consumer quits early; `feeding` already holds any error it ends with.
    gunzip.destroy();
  }
}

export function detect(first: Buffer): Compression {
  if (startsWith(first, GZIP_MAGIC)) return 'gzip';
  if (startsWith(first, ZSTD_MAGIC)) throw new NotSupportedError('zstd-compressed layers are not supported (only gzip and plain tar)');
  return 'none';
}

function startsWith(bytes: Buffer, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((byte, i) => bytes[i] === byte);
}
