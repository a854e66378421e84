// Image names → manifest descriptors, stored as an OCI index.json (ref.name annotations), replaced atomically.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '../errors.js';
import { writeFileAtomic } from '../disk/atomic-write.js';
import { withFileLock } from '../disk/file-lock.js';
import type { Descriptor, ImageStore } from './types.js';

const REF_NAME = 'org.opencontainers.image.ref.name';

interface OciIndex {
  schemaVersion: 2;
  mediaType: 'application/vnd.oci.image.index.v1+json';
  manifests: Descriptor[];
}

/** Normalises a user's image name the way docker does for local names: "app" means "app:latest". */
export function normaliseImageName(name: string): string {
  if (name.includes('@')) return name;
  const lastSlash = name.lastIndexOf('/');
  const hasTag = name.indexOf(':', lastSlash + 1) !== -1;
  return hasTag ? name : `${name}:latest`;
}

export class FileImageStore implements ImageStore {
  private readonly indexPath: string;
  /** Serialises read-modify-write of index.json inside this process. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly root: string) {
    this.indexPath = join(root, 'index.json');
  }

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  private async readIndex(): Promise<OciIndex> {
    let text: string;
    try {
      text = await readFile(this.indexPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] };
      }
      throw error;
    }
    try {
      return JSON.parse(text) as OciIndex;
    } catch (error) {
      throw new KilnError(`image store index ${this.indexPath} is not valid JSON`, { cause: error });
    }
  }

  private update<T>(change: (index: OciIndex) => T): Promise<T> {
    const next = this.queue.then(() =>
      withFileLock(`${this.indexPath}.lock`, async () => {
        const index = await this.readIndex();
        const result = change(index);
        await writeFileAtomic(this.indexPath, `${JSON.stringify(index, null, 2)}\n`);
        return result;
      }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  tag(name: string, manifest: Descriptor): Promise<void> {
    const ref = normaliseImageName(name);
    return this.update((index) => {
      // A new name replaces the old holder of that name, and the nameless entry of the same image.
      index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== ref && !(m.digest === manifest.digest && m.annotations?.[REF_NAME] === undefined));
      index.manifests.push({ ...manifest, annotations: { ...manifest.annotations, [REF_NAME]: ref } });
    });
  }

  /** Keeps a manifest with no name (docker's dangling image), unless some entry already holds it. */
  keepUntagged(manifest: Descriptor): Promise<void> {
    return this.update((index) => {
      if (index.manifests.some((m) => m.digest === manifest.digest)) return;
      index.manifests.push(manifest);
    });
  }

  async resolve(name: string): Promise<Descriptor | undefined> {
    const ref = normaliseImageName(name);
    const index = await this.readIndex();
    const found = index.manifests.find((m) => m.annotations?.[REF_NAME] === ref);
    if (found) return found;
    // An image can also be named by (a prefix of) its manifest digest, like docker's image IDs.
    const hex = name.replace(/^sha256:/, '');
    if (/^[0-9a-f]{12,64}$/.test(hex)) return index.manifests.find((m) => m.digest.slice(7).startsWith(hex));
    return undefined;
  }

  async list(): Promise<ReadonlyArray<{ readonly name: string; readonly manifest: Descriptor }>> {
    const index = await this.readIndex();
    return index.manifests.map((manifest) => ({ name: manifest.annotations?.[REF_NAME] ?? '<none>', manifest }));
  }

  remove(name: string): Promise<boolean> {
    const ref = normaliseImageName(name);
    const hex = name.replace(/^sha256:/, '');
    const byId = /^[0-9a-f]{12,64}$/.test(hex);
    return this.update((index) => {
      const before = index.manifests.length;
      index.manifests = index.manifests.filter((m) => {
        const named = m.annotations?.[REF_NAME];
        if (named !== undefined) return named !== ref;
        // A nameless image can only be removed by its ID.
        return !(byId && m.digest.slice(7).startsWith(hex));
      });
      return index.manifests.length !== before;
    });
  }
}
