// `kiln save --format docker`: docker's manifest.json (Config, RepoTags, Layers) over the same OCI layout, like docker ≥ 25.
import type { Writable } from 'node:stream';
import type { ContentStore } from '../content/types.js';
import type { Platform } from '../llb/index.js';
import { layoutMembers, metadataMember, type NamedImage } from './archive-layout.js';
import { readImage } from './image-reader.js';
import { familiarName } from './image-names.js';
import { writeMembers } from './oci-archive.js';

interface DockerManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** Writes a `docker save` tar (loadable by docker load, skopeo docker-archive:, and as an OCI layout) and ends `out`. */
export async function writeDockerArchive(content: ContentStore, images: readonly NamedImage[], out: Writable, opts: { signal?: AbortSignal; platform?: Platform } = {}): Promise<void> {
  // One manifest.json entry per image, listing all the names it is saved under.
  const byManifest = new Map<string, DockerManifestEntry>();
  for (const { name, manifest } of images) {
    // docker archives hold single-platform images: an index is narrowed to `platform` (or its only manifest).
    const image = await readImage(content, manifest, opts.platform);
    let entry = byManifest.get(image.descriptor.digest);
    if (entry === undefined) {
      entry = {
        Config: blobPath(image.manifest.config.digest),
        RepoTags: [],
        Layers: image.layers.map((layer) => blobPath(layer.blob.digest)),
      };
      byManifest.set(image.descriptor.digest, entry);
    }
    const tag = familiarName(name);
    if (!tag.includes('@') && !entry.RepoTags.includes(tag)) entry.RepoTags.push(tag);
  }
  const manifestJson = JSON.stringify([...byManifest.values()]);
  await writeMembers(await layoutMembers(content, images, [metadataMember('manifest.json', manifestJson)]), out, opts.signal);
}

function blobPath(digest: string): string {
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}
