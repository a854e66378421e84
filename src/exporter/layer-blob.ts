// Tar bytes → gzip → content store, hashing the uncompressed stream on the way (the layer's diffID).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ContentStore, Descriptor } from '../content/types.js';
import { OCI_LAYER_GZIP } from './media-types.js';
import { parallelGzip, parallelGzipAvailable } from './parallel-gzip.js';

export interface LayerBlobOptions {
  readonly signal?: AbortSignal;
  /** Called with the number of uncompressed tar bytes as they pass. */
  readonly onBytes?: (n: number) => void;
  /** zlib level 1–9 (default 6, gzip's own default). */
  readonly compressionLevel?: number;
  /** Compress blocks on several threads (default true; falls back to one zlib stream on Node < 20.15). */
  readonly parallel?: boolean;
}

export interface StoredLayer {
  readonly blob: Descriptor;
  readonly diffId: string;
}

/** Compresses and stores a tar stream as an OCI gzip layer; never holds more than a few blocks in memory. */
export async function storeLayer(tar: AsyncIterable<Buffer>, content: ContentStore, opts: LayerBlobOptions = {}): Promise<StoredLayer> {
  const hash = createHash('sha256');
  const level = opts.compressionLevel ?? 6;
  async function* measured(): AsyncGenerator<Buffer> {
    for await (const chunk of tar) {
      opts.signal?.throwIfAborted();
      hash.update(chunk);
      opts.onBytes?.(chunk.length);
      yield chunk;
    }
  }
  if (opts.parallel !== false && parallelGzipAvailable) {
    const blob = await content.write(parallelGzip(measured(), { level }), OCI_LAYER_GZIP);
    return { blob, diffId: `sha256:${hash.digest('hex')}` };
  }
  const gzip = createGzip({ level, chunkSize: 64 * 1024 });
  const source = Readable.from(measured(), { objectMode: false });
  const feeding = opts.signal ? pipeline(source, gzip, { signal: opts.signal }) : pipeline(source, gzip);
  const writing = content.write(gzip, OCI_LAYER_GZIP);
  // Wait for both sides, so a failure on one never leaves the other still writing.
  const [fed, written] = await Promise.allSettled([feeding, writing]);
  if (fed.status === 'rejected') throw fed.reason;
  if (written.status === 'rejected') throw written.reason;
  return { blob: written.value, diffId: `sha256:${hash.digest('hex')}` };
}
