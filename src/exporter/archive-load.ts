// `kiln load`: reads an OCI layout tar or a docker save tar (new or legacy), storing blobs as they stream past.
import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { ContentStore, Descriptor } from '../content/types.js';
import { NotSupportedError } from '../errors.js';
import { canonicalJson } from '../llb/index.js';
import { decompressed, readTar } from '../snapshot/index.js';
import { ArchiveError, CONTAINERD_NAME_ANNOTATION, REF_NAME_ANNOTATION } from './archive-layout.js';
import { readImage } from './image-reader.js';
import { familiarName, isFullReference, withTag } from './image-names.js';
import { DOCKER_MANIFEST_LIST, OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_MANIFEST } from './media-types.js';
import type { OciIndex } from './oci-types.js';

export interface LoadedImage {
  /** The name the archive gives the image (docker's familiar form), if any. */
  readonly name?: string;
  readonly manifest: Descriptor;
}

const BLOB_PATH = /^blobs\/sha256\/([0-9a-f]{64})$/;
/** Small members (JSON metadata, legacy per-layer files) stay in memory up to this much in total. */
const MEMORY_BUDGET = 64 * 1024 * 1024;
const SMALL_MEMBER = 1024 * 1024;
const MAX_METADATA = 16 * 1024 * 1024;

interface ArchiveFiles {
  readonly small: Map<string, Buffer>;
  readonly stored: Map<string, Descriptor>;
  readonly aliases: Map<string, string>;
}

/** Loads every image of the archive (plain or gzip-compressed tar) into the content store; returns them with their names. */
export async function loadArchive(input: Readable | string, content: ContentStore, opts: { signal?: AbortSignal } = {}): Promise<LoadedImage[]> {
  const stream = typeof input === 'string' ? createReadStream(input) : input;
  const files = await ingest(stream, content, opts.signal);
  const index = jsonOf(files, 'index.json');
  const dockerManifest = jsonOf(files, 'manifest.json');
  if (index !== undefined) return fromLayout(index as OciIndex, dockerManifest, files, content);
  if (dockerManifest !== undefined) return fromDockerManifest(dockerManifest, files, content);
  throw new ArchiveError('the archive holds neither an OCI index.json nor a docker manifest.json: not an image archive');
}

async function ingest(stream: Readable, content: ContentStore, signal?: AbortSignal): Promise<ArchiveFiles> {
  const files: ArchiveFiles = { small: new Map(), stored: new Map(), aliases: new Map() };
  let buffered = 0;
  try {
    for await (const member of readTar(decompressed(stream, signal))) {
      signal?.throwIfAborted();
      const path = cleanPath(member.header.name);
      const { type, linkname, size } = member.header;
      if (type === 'link' && linkname !== undefined) files.aliases.set(path, cleanPath(linkname));
      else if (type === 'symlink' && linkname !== undefined) files.aliases.set(path, cleanPath(posix.join(posix.dirname(path), linkname)));
      if (type !== 'file') continue;
      const blob = BLOB_PATH.exec(path);
      if (blob === null && path.startsWith('blobs/') && !path.startsWith('blobs/sha256/')) {
        throw new NotSupportedError(`archive member ${path}: only sha256 blobs are supported`);
      }
      const isMetadata = path === 'index.json' || path === 'manifest.json';
      if (blob === null && (isMetadata || (size <= SMALL_MEMBER && buffered + size <= MEMORY_BUDGET))) {
        if (size > MAX_METADATA) throw new ArchiveError(`archive member ${path} is ${size} bytes: too large for image metadata`);
        const chunks: Buffer[] = [];
        for await (const chunk of member.body) chunks.push(chunk);
        files.small.set(path, Buffer.concat(chunks));
        buffered += size;
        continue;
      }
      // Blob paths are verified against their names; the content store keeps nothing that does not match.
      files.stored.set(path, await content.write(member.body, 'application/octet-stream', blob ? `sha256:${blob[1]}` : undefined));
    }
  } finally {
    stream.destroy();
  }
  return files;
}

async function fromLayout(index: OciIndex, dockerManifest: unknown, files: ArchiveFiles, content: ContentStore): Promise<LoadedImage[]> {
  if (!Array.isArray(index.manifests)) throw new ArchiveError('index.json has no "manifests" list');
  const dockerTags = await dockerTagsByConfig(dockerManifest, files);
  const loaded: LoadedImage[] = [];
  for (const entry of index.manifests) {
    if (!(await content.has(entry.digest))) throw new ArchiveError(`index.json lists ${entry.digest}, which is not in the archive`);
    const manifest: Descriptor = {
      mediaType: entry.mediaType,
      digest: entry.digest,
      size: entry.size,
      ...(entry.platform ? { platform: entry.platform } : {}),
    };
    const isIndex = entry.mediaType === OCI_INDEX || entry.mediaType === DOCKER_MANIFEST_LIST;
    let configDigest: string | undefined;
    if (!isIndex) {
      // Fails clearly now if a config or layer blob is missing, instead of at the first build FROM it.
      const image = await readImage(content, manifest);
      for (const layer of image.layers) {
        if (!(await content.has(layer.blob.digest))) throw new ArchiveError(`image ${entry.digest}: layer ${layer.blob.digest} is not in the archive`);
      }
      configDigest = image.manifest.config.digest;
    }
    const names = new Set<string>();
    const containerdName = entry.annotations?.[CONTAINERD_NAME_ANNOTATION];
    const refName = entry.annotations?.[REF_NAME_ANNOTATION];
    if (containerdName) names.add(familiarName(containerdName));
    else if (refName && isFullReference(refName)) names.add(familiarName(refName));
    else for (const tag of (configDigest && dockerTags.get(configDigest)) || []) names.add(familiarName(tag));
    if (names.size === 0) loaded.push({ manifest });
    for (const name of names) loaded.push({ name, manifest });
  }
  return loaded;
}

/** Legacy `docker save` (before docker 25): manifest.json naming per-image config and layer.tar files. */
async function fromDockerManifest(dockerManifest: unknown, files: ArchiveFiles, content: ContentStore): Promise<LoadedImage[]> {
  const loaded: LoadedImage[] = [];
  for (const item of dockerEntries(dockerManifest)) {
    const config = await materialize(item.Config, files, content, OCI_CONFIG);
    const layers: Descriptor[] = [];
    for (const path of item.Layers) {
      const stored = await materialize(path, files, content, OCI_LAYER_TAR);
      const gzip = (await firstBytes(content, stored.digest)).subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]));
      layers.push({ mediaType: gzip ? OCI_LAYER_GZIP : OCI_LAYER_TAR, digest: stored.digest, size: stored.size });
    }
    const manifestJson = canonicalJson({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
      layers,
    });
    const written = await content.writeBytes(manifestJson, OCI_MANIFEST);
    const manifest: Descriptor = { mediaType: OCI_MANIFEST, digest: written.digest, size: written.size };
    const tags = item.RepoTags ?? [];
    if (tags.length === 0) loaded.push({ manifest });
    for (const tag of tags) loaded.push({ name: familiarName(withTag(tag)), manifest });
  }
  return loaded;
}

interface DockerEntry {
  readonly Config: string;
  readonly RepoTags?: readonly string[] | null;
  readonly Layers: readonly string[];
}

function dockerEntries(value: unknown): DockerEntry[] {
  if (!Array.isArray(value)) throw new ArchiveError('manifest.json is not a list of images');
  return value.map((item: unknown, i) => {
    const entry = item as Partial<DockerEntry> | null;
    if (entry === null || typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) {
      throw new ArchiveError(`manifest.json entry ${i} lacks Config or Layers`);
    }
    return entry as DockerEntry;
  });
}

async function dockerTagsByConfig(dockerManifest: unknown, files: ArchiveFiles): Promise<Map<string, readonly string[]>> {
  const tags = new Map<string, readonly string[]>();
  if (dockerManifest === undefined) return tags;
  for (const item of dockerEntries(dockerManifest)) {
    const config = files.stored.get(resolveAlias(cleanPath(item.Config), files));
    if (config && item.RepoTags) tags.set(config.digest, item.RepoTags);
  }
  return tags;
}

/** The stored blob for an archive path, writing small in-memory members to the store on demand. */
async function materialize(path: string, files: ArchiveFiles, content: ContentStore, mediaType: string): Promise<Descriptor> {
  const real = resolveAlias(cleanPath(path), files);
  const stored = files.stored.get(real);
  if (stored) return stored;
  const bytes = files.small.get(real);
  if (bytes === undefined) throw new ArchiveError(`manifest.json names ${path}, which is not in the archive`);
  return content.writeBytes(bytes, mediaType);
}

function resolveAlias(path: string, files: ArchiveFiles): string {
  let current = path;
  for (let hops = 0; hops < 16; hops++) {
    const next = files.aliases.get(current);
    if (next === undefined) return current;
    current = next;
  }
  throw new ArchiveError(`archive member ${path} is a link loop`);
}

async function firstBytes(content: ContentStore, digest: string): Promise<Buffer> {
  for await (const chunk of content.read(digest)) return chunk as Buffer;
  return Buffer.alloc(0);
}

function jsonOf(files: ArchiveFiles, path: string): unknown {
  const bytes = files.small.get(path);
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ArchiveError(`${path} in the archive is not valid JSON`, { cause: error });
  }
}

function cleanPath(name: string): string {
  return posix.normalize(name).replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
}
