// Gzip compressed on several threads (pigz's scheme): fixed-size blocks, each a raw deflate primed with the previous
// block's last 32 KiB and ended by a sync flush, so their concatenation is one ordinary deflate stream.
import { availableParallelism } from 'node:os';
import { constants, crc32, deflateRaw, type ZlibOptions } from 'node:zlib';

const DICTIONARY = 32 * 1024;
const DEFAULT_BLOCK = 128 * 1024;
/** Magic, deflate, no flags, mtime 0, no extra flags, OS unix: fixed, so equal input gives equal bytes. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]);

export interface ParallelGzipOptions {
  readonly level: number;
  readonly blockSize?: number;
  /** Blocks compressed at once; default: available CPUs + 1 (one block waits while the others run). */
  readonly concurrency?: number;
}

/** Whether this Node has zlib.crc32 (20.15+), which the gzip trailer needs. */
export const parallelGzipAvailable = typeof crc32 === 'function';

/** A gzip stream of `source`; output depends only on the input, level and block size (not on timing). */
export async function* parallelGzip(source: AsyncIterable<Uint8Array>, opts: ParallelGzipOptions): AsyncGenerator<Buffer> {
  const blockSize = opts.blockSize ?? DEFAULT_BLOCK;
  if (blockSize < DICTIONARY) throw new RangeError(`parallel gzip blocks must be at least ${DICTIONARY} bytes`);
  const concurrency = Math.max(1, opts.concurrency ?? availableParallelism() + 1);
  const inFlight: Promise<Buffer>[] = [];
  let crc = 0;
  let length = 0;
  let held: Buffer | undefined;
  let dictionary: Buffer | undefined;

  const start = (block: Buffer, last: boolean) => {
    const job = compressBlock(block, opts.level, dictionary, last);
    // Observed now so an early failure is not "unhandled"; it is rethrown when its turn to be yielded comes.
    job.catch(() => undefined);
    inFlight.push(job);
    // Only the last block can be shorter than the window, and nothing follows it.
    dictionary = block.subarray(-DICTIONARY);
  };

  yield GZIP_HEADER;
  for await (const block of fixedBlocks(source, blockSize)) {
    crc = crc32(block, crc);
    length += block.length;
    // The newest block is held back: only once another arrives do we know it is not the last one.
    if (held !== undefined) start(held, false);
    held = block;
    while (inFlight.length >= concurrency) yield await inFlight.shift()!;
  }
  start(held ?? Buffer.alloc(0), true);
  while (inFlight.length > 0) yield await inFlight.shift()!;
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(length % 2 ** 32, 4);
  yield trailer;
}

function compressBlock(block: Buffer, level: number, dictionary: Buffer | undefined, last: boolean): Promise<Buffer> {
  const options: ZlibOptions = {
    level,
    finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
    ...(dictionary !== undefined ? { dictionary } : {}),
  };
  return new Promise((resolve, reject) => deflateRaw(block, options, (error, result) => (error ? reject(error) : resolve(result))));
}

/** Re-chunks a byte stream into blocks of exactly `size` bytes (the last may be shorter, never empty). */
async function* fixedBlocks(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let block = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const chunk of source) {
    let offset = 0;
    while (offset < chunk.length) {
      const copied = Math.min(size - filled, chunk.length - offset);
      block.set(chunk.subarray(offset, offset + copied), filled);
      filled += copied;
      offset += copied;
      if (filled === size) {
        yield block;
        block = Buffer.allocUnsafe(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield block.subarray(0, filled);
}
