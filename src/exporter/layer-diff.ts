// The layer of a build step: the overlay upper dir as an OCI changeset (whiteouts, opaque dirs), gzip-compressed.
import { readdir } from 'node:fs/promises';
import type { ContentStore } from '../content/types.js';
import { storeLayer, type LayerBlobOptions, type StoredLayer } from './layer-blob.js';
import { packTar } from './tar-writer.js';
import { walkTree } from './tree-walk.js';

/**
 * Writes the changes recorded in an overlay upper dir (not the merged tree) as a layer blob.
 * Returns undefined when the step changed nothing (empty upper dir): such a step adds no layer.
 */
export async function writeLayerFromUpperDir(upperDir: string, content: ContentStore, opts: LayerBlobOptions = {}): Promise<StoredLayer | undefined> {
  if ((await readdir(upperDir)).length === 0) return undefined;
  return storeLayer(packTar(walkTree(upperDir, 'overlay-upper', opts.signal)), content, opts);
}
