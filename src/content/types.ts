// Seams of the content-addressed blob store and the image name store.
import type { Readable } from 'node:stream';

/** An OCI content descriptor. `digest` is "sha256:<hex>". */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: { readonly os: string; readonly architecture: string; readonly variant?: string };
}

/** Immutable blobs by digest. Writes go to an ingest file, are verified, fsynced and renamed into place. */
export interface ContentStore {
  has(digest: string): Promise<boolean>;
  /** Path of the blob file on disk (it may not exist; check `has`). */
  pathOf(digest: string): string;
  read(digest: string): Readable;
  readBytes(digest: string): Promise<Buffer>;
  /** Streams `source` into the store; fails (and keeps nothing) if `expectedDigest` is given and differs. */
  write(source: AsyncIterable<Uint8Array> | Readable, mediaType: string, expectedDigest?: string): Promise<Descriptor>;
  writeBytes(bytes: Uint8Array | string, mediaType: string): Promise<Descriptor>;
  /** Every blob digest present. */
  list(): Promise<string[]>;
  remove(digest: string): Promise<void>;
}

/** Image names (tags) → manifest descriptors, kept as an OCI index.json. */
export interface ImageStore {
  tag(name: string, manifest: Descriptor): Promise<void>;
  resolve(name: string): Promise<Descriptor | undefined>;
  list(): Promise<ReadonlyArray<{ readonly name: string; readonly manifest: Descriptor }>>;
  /** Keeps an image that has no name (an untagged build), reachable by its ID. */
  keepUntagged(manifest: Descriptor): Promise<void>;
  /** Removes the name (or a nameless image, by ID); returns false if it did not exist. */
  remove(name: string): Promise<boolean>;
}
