// Unpacks an OCI layer blob into an empty snapshot directory that will serve as an overlay lower layer.
import { createHash, type Hash } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { decompressed } from './layer-apply-decompress.js';
import { LayerTreeWriter } from './layer-apply-entry.js';
import { LayerApplyError } from './layer-apply-error.js';
import { readTar } from './layer-apply-tar-reader.js';

export { LayerApplyError } from './layer-apply-error.js';
export { readTar, TarFormatError } from './layer-apply-tar-reader.js';
export type { TarEntry, TarEntryType, TarHeader } from './layer-apply-tar-reader.js';
export { decompressed } from './layer-apply-decompress.js';

export interface ApplyLayerOptions {
  readonly signal?: AbortSignal;
  /** The xattr that marks opaque directories: "trusted.overlay.opaque" (default) or "user.overlay.opaque" for userxattr mounts. */
  readonly opaqueXattr?: string;
}

/**
 * Extracts a gzip or plain tar layer into `targetDir` (created if missing; must be empty).
 * `.wh.NAME` becomes a char 0:0 device at NAME and `.wh..wh..opq` an opaque-dir xattr, so the directory can be
 * stacked as an overlay lower. Members are contained in `targetDir`: absolute names, `..` escapes and writes
 * through symlinks are refused. Returns the diffID (sha256 of the uncompressed tar). On failure the directory
 * holds a partial tree; the caller removes it.
 */
export async function applyLayer(blobStream: Readable, targetDir: string, opts: ApplyLayerOptions = {}): Promise<{ diffId: string }> {
  await mkdir(targetDir, { recursive: true });
  if ((await readdir(targetDir)).length > 0) {
    throw new LayerApplyError(`cannot unpack a layer into ${targetDir}: the directory is not empty`);
  }
  const hash = createHash('sha256');
  const writer = new LayerTreeWriter(targetDir, opts.opaqueXattr ?? 'trusted.overlay.opaque');
  try {
    for await (const entry of readTar(hashing(decompressed(blobStream, opts.signal), hash))) {
      opts.signal?.throwIfAborted();
      await writer.apply(entry);
    }
    writer.finish();
  } finally {
    blobStream.destroy();
  }
  return { diffId: `sha256:${hash.digest('hex')}` };
}

async function* hashing(source: AsyncIterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
}
