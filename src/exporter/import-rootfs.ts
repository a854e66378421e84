// `kiln import`: a root filesystem (directory or .tar/.tar.gz) becomes a single gzip layer in the content store.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ContentStore } from '../content/types.js';
import { KilnError } from '../errors.js';
import { decompressed, readTar, type TarEntry } from '../snapshot/index.js';
import { storeLayer, type LayerBlobOptions, type StoredLayer } from './layer-blob.js';
import { packTar, type TarWriteEntry } from './tar-writer.js';
import { walkTree } from './tree-walk.js';

export class ImportError extends KilnError {}

/**
 * A directory is archived as it is (no whiteout logic); a tarball is read member by member and re-written,
 * which checks that it is a tar and normalizes names ("./x", "/x" → "x").
 */
export async function importRootfs(source: string, content: ContentStore, opts: LayerBlobOptions = {}): Promise<StoredLayer> {
  const info = await stat(source);
  if (info.isDirectory()) return storeLayer(packTar(walkTree(source, 'rootfs', opts.signal)), content, opts);
  if (!info.isFile()) throw new ImportError(`cannot import ${source}: not a directory or a tar file`);
  const members = readTar(decompressed(createReadStream(source), opts.signal));
  return storeLayer(packTar(normalized(members, source)), content, opts);
}

async function* normalized(members: AsyncIterable<TarEntry>, source: string): AsyncGenerator<TarWriteEntry> {
  for await (const member of members) {
    const name = normalName(member.header.name, source);
    const linkname =
      member.header.type === 'link' && member.header.linkname !== undefined ? normalName(member.header.linkname, source) : member.header.linkname;
    yield {
      header: { ...member.header, name, ...(linkname === undefined ? {} : { linkname }) },
      body: () => member.body,
    };
  }
}

/** The member path relative to the rootfs; "." for the root itself. */
function normalName(name: string, source: string): string {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw new ImportError(`${source}: member "${name}" points outside the root filesystem`);
      parts.pop();
    } else parts.push(part);
  }
  return parts.length === 0 ? '.' : parts.join('/');
}
