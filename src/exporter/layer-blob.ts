// Tar bytes → gzip → content store, hashing the uncompressed stream on the way (the layer's diffID).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ContentStore, Descriptor } from '../content/types.js';
import { OCI_LAYER_GZIP } from './media-types.js';

export interface LayerBlobOptions {
  readonly signal?: AbortSignal;
  /** Called with the number of uncompressed tar bytes as they pass. */
  readonly onBytes?: (n: number) => void;
  /** zlib level 1–9 (default 6, gzip's own default). */
  readonly compressionLevel?: number;
}

export interface StoredLayer {
  readonly blob: Descriptor;
  readonly diffId: string;
}

/** Compresses and stores a tar stream as an OCI gzip layer; never holds more than a few chunks in memory. */
export async function storeLayer(tar: AsyncIterable<Buffer>, content: ContentStore, opts: LayerBlobOptions = {}): Promise<StoredLayer> {
  const hash = createHash('sha256');
  const gzip = createGzip({ level: opts.compressionLevel ?? 6, chunkSize: 64 * 1024 });
  async function* measured(): AsyncGenerator<Buffer> {
    for await (const chunk of tar) {
      hash.update(chunk);
      opts.onBytes?.(chunk.length);
      yield chunk;
    }
  }
  const source = Readable.from(measured(), { objectMode: false });
  const feeding = opts.signal ? pipeline(source, gzip, { signal: opts.signal }) : pipeline(source, gzip);
  const writing = content.write(gzip, OCI_LAYER_GZIP);
  // Wait for both sides, so a failure on one never leaves the other still writing.
  const [fed, written] = await Promise.allSettled([feeding, writing]);
  if (fed.status === 'rejected') throw fed.reason;
  if (written.status === 'rejected') throw written.reason;
  return { blob: written.value, diffId: `sha256:${hash.digest('hex')}` };
}
