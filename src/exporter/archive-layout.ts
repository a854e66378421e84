// The members of an OCI image layout (oci-layout, index.json, blobs/sha256/*) for the images being saved.
import { stat } from 'node:fs/promises';
import type { ContentStore, Descriptor } from '../content/types.js';
import { KilnError } from '../errors.js';
import { canonicalJson } from '../llb/index.js';
import { readImage } from './image-reader.js';
import { familiarName, tagOf, withTag } from './image-names.js';
import { DOCKER_MANIFEST_LIST, OCI_INDEX } from './media-types.js';
import type { OciIndex } from './oci-types.js';
import type { TarWriteEntry } from './tar-writer.js';

export interface NamedImage {
  readonly name: string;
  readonly manifest: Descriptor;
}

export class ArchiveError extends KilnError {}

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';

/** Directory and small-file members get fixed metadata so equal images give equal archives. */
export function metadataMember(name: string, bytes: Buffer | string): TarWriteEntry {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  return { header: { name, type: 'file', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: 0 }, body: () => [data] };
}

function dirMember(name: string): TarWriteEntry {
  return { header: { name, type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 } };
}

/** The index.json of a layout: one entry per name, carrying both the containerd name and the OCI tag. */
export function layoutIndex(images: readonly NamedImage[]): OciIndex {
  return {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: images.map(({ name, manifest }) => ({
      mediaType: manifest.mediaType,
      digest: manifest.digest,
      size: manifest.size,
      ...(manifest.platform ? { platform: manifest.platform } : {}),
      annotations: { [CONTAINERD_NAME_ANNOTATION]: familiarName(withTag(name)), [REF_NAME_ANNOTATION]: tagOf(name) },
    })),
  };
}

/**
 * Every blob the images need, each once: manifests, configs, layers. For an index, the index and every child
 * manifest present locally (a pull keeps only the platforms it used; the others stay referenced, not included).
 */
export async function blobsOf(content: ContentStore, images: readonly NamedImage[]): Promise<Descriptor[]> {
  const seen = new Map<string, Descriptor>();
  const add = (descriptor: Descriptor) => {
    if (!seen.has(descriptor.digest)) seen.set(descriptor.digest, descriptor);
  };
  const addImage = async (name: string, manifest: Descriptor) => {
    const image = await readImage(content, manifest).catch((error: unknown) => {
      throw new ArchiveError(`cannot save ${name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    add(image.descriptor);
    add(image.manifest.config);
    for (const layer of image.layers) add(layer.blob);
  };
  for (const { name, manifest } of images) {
    if (manifest.mediaType !== OCI_INDEX && manifest.mediaType !== DOCKER_MANIFEST_LIST) {
      await addImage(name, manifest);
      continue;
    }
    add(manifest);
    const index = JSON.parse((await content.readBytes(manifest.digest)).toString('utf8')) as OciIndex;
    for (const child of index.manifests ?? []) {
      if (await content.has(child.digest)) await addImage(name, child);
    }
  }
  return [...seen.values()];
}

/** Layout members in a fixed order: oci-layout, index.json, extra metadata (manifest.json), then the blobs. */
export async function layoutMembers(
  content: ContentStore,
  images: readonly NamedImage[],
  extra: readonly TarWriteEntry[] = [],
): Promise<TarWriteEntry[]> {
  const blobs = await blobsOf(content, images);
  const members: TarWriteEntry[] = [
    metadataMember('oci-layout', canonicalJson({ imageLayoutVersion: '1.0.0' })),
    metadataMember('index.json', canonicalJson(layoutIndex(images))),
    ...extra,
    dirMember('blobs'),
    dirMember('blobs/sha256'),
  ];
  for (const blob of blobs) {
    if (!(await content.has(blob.digest))) throw new ArchiveError(`blob ${blob.digest} is missing from the content store`);
    const size = (await stat(content.pathOf(blob.digest))).size;
    members.push({
      header: { name: `blobs/sha256/${blob.digest.slice('sha256:'.length)}`, type: 'file', mode: 0o644, uid: 0, gid: 0, size, mtime: 0 },
      body: () => content.read(blob.digest),
    });
  }
  return members;
}
