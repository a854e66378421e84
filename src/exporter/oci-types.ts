// The OCI image documents the exporter writes and reads (image-spec config.md, manifest.md, image-index.md).
import type { Descriptor } from '../content/types.js';
import type { ImageRuntimeConfig } from '../llb/index.js';

export interface OciHistory {
  readonly created?: string;
  readonly created_by?: string;
  readonly author?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

/** The image config blob: platform, runtime config, layer diffIDs and history. */
export interface OciImageConfig {
  readonly created?: string;
  readonly author?: string;
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly 'os.version'?: string;
  readonly 'os.features'?: readonly string[];
  readonly config?: ImageRuntimeConfig;
  readonly rootfs: { readonly type: 'layers'; readonly diff_ids: readonly string[] };
  readonly history?: readonly OciHistory[];
}

export interface OciManifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface OciIndex {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** One layer of an image as both identities: the stored blob and the diffID of its uncompressed tar. */
export interface ImageLayer {
  readonly blob: Descriptor;
  readonly diffId: string;
}
