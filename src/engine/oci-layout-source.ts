// Images from an OCI image layout directory (--build-context NAME=oci-layout://DIR[:TAG|@DIGEST]).
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContentStore, Descriptor } from '../content/types.js';
import { KilnError } from '../errors.js';
import type { Platform } from '../llb/types.js';

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

interface Index {
  readonly manifests: readonly Descriptor[];
}

/** Splits "DIR:TAG" / "DIR@sha256:…" (a bare DIR means its only image). */
export function parseLayoutReference(reference: string): { dir: string; tag?: string; digest?: string } {
  const at = reference.lastIndexOf('@');
  if (at !== -1) return { dir: reference.slice(0, at), digest: reference.slice(at + 1) };
  const colon = reference.lastIndexOf(':');
  if (colon > reference.lastIndexOf('/')) return { dir: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  return { dir: reference };
}

async function copyBlob(dir: string, descriptor: Descriptor, content: ContentStore): Promise<void> {
  if (await content.has(descriptor.digest)) return;
  const path = join(dir, 'blobs', ...descriptor.digest.split(':'));
  await content.write(createReadStream(path), descriptor.mediaType, descriptor.digest);
}

function pick(index: Index, wanted: { tag?: string; digest?: string }, where: string): Descriptor {
  const { manifests } = index;
  const found = wanted.digest
    ? manifests.find((m) => m.digest === wanted.digest)
    : wanted.tag
      ? manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === wanted.tag)
      : manifests.length === 1
        ? manifests[0]
        : undefined;
  if (!found) throw new KilnError(`${where}: no image ${wanted.digest ?? wanted.tag ?? '(the layout holds several; name one with :TAG)'} in the layout`);
  return found;
}

/** Copies the image (manifest, config, layers) into the content store and returns its platform manifest. */
export async function importFromOciLayout(reference: string, content: ContentStore, platform: Platform): Promise<Descriptor> {
  const wanted = parseLayoutReference(reference);
  const where = `oci-layout://${reference}`;
  let index: Index;
  try {
    index = JSON.parse(await readFile(join(wanted.dir, 'index.json'), 'utf8')) as Index;
  } catch (error) {
    throw new KilnError(`${where}: cannot read index.json of the OCI layout: ${(error as Error).message}`, { cause: error });
  }
  let manifest = pick(index, wanted, where);
  while (INDEX_TYPES.has(manifest.mediaType)) {
    await copyBlob(wanted.dir, manifest, content);
    const nested = JSON.parse((await content.readBytes(manifest.digest)).toString()) as Index;
    const match = nested.manifests.find((m) => m.platform?.os === platform.os && m.platform.architecture === platform.architecture);
    if (!match) throw new KilnError(`${where}: no manifest for ${platform.os}/${platform.architecture}`);
    manifest = match;
  }
  await copyBlob(wanted.dir, manifest, content);
  const body = JSON.parse((await content.readBytes(manifest.digest)).toString()) as { config: Descriptor; layers: Descriptor[] };
  for (const blob of [body.config, ...body.layers]) await copyBlob(wanted.dir, blob, content);
  return manifest;
}
