// `kiln save --format oci`: an OCI image layout as one tar stream, blobs streamed from the content store.
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContentStore } from '../content/types.js';
import { layoutMembers, type NamedImage } from './archive-layout.js';
import { packTar, type TarWriteEntry } from './tar-writer.js';

/** Writes the layout tar to `out` and ends it. */
export async function writeOciArchive(content: ContentStore, images: readonly NamedImage[], out: Writable, opts: { signal?: AbortSignal } = {}): Promise<void> {
  await writeMembers(await layoutMembers(content, images), out, opts.signal);
}

export async function writeMembers(members: readonly TarWriteEntry[], out: Writable, signal?: AbortSignal): Promise<void> {
  const source = Readable.from(packTar(members), { objectMode: false });
  if (signal) await pipeline(source, out, { signal });
  else await pipeline(source, out);
}
