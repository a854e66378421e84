// The build graph: content-addressed ops with inputs, and what the frontend hands the solver.

/** "sha256:<hex>" */
export type Digest = string;

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** Where an op came from in the Dockerfile (1-based, inclusive lines). */
export interface SourceLocation {
  readonly file: string;
  readonly startLine: number;
  readonly endLine: number;
}

export interface ChownSpec {
  /** User name or numeric uid, resolved in the destination root's /etc/passwd. */
  readonly user: string;
  /** Group name or numeric gid; when absent, the user's primary group (or the same id when numeric). */
  readonly group?: string;
}

/** One file action of a `file` op. `source` indexes the op's inputs (input 0 is the destination root). */
export type FileAction =
  | {
      readonly kind: 'copy';
      readonly source: number;
      /** Source paths or wildcard patterns, relative to the source root. */
      readonly src: readonly string[];
      /** Absolute destination in the destination root; a trailing "/" means "into this directory". */
      readonly dest: string;
      readonly chown?: ChownSpec;
      /** Octal ("755") or symbolic ("u+x") mode applied to every copied entry. */
      readonly chmod?: string;
      readonly exclude: readonly string[];
      readonly parents: boolean;
      readonly link: boolean;
      /** ADD: local tar archives are extracted into dest. */
      readonly unpackArchives: boolean;
    }
  | {
      readonly kind: 'mkdir';
      readonly path: string;
      readonly mode: number;
      readonly makeParents: boolean;
      readonly chown?: ChownSpec;
    }
  | {
      readonly kind: 'mkfile';
      readonly path: string;
      readonly mode: number;
      readonly data: string;
      readonly chown?: ChownSpec;
    };

/** RUN --mount, as written (validated by the frontend). */
export type RunMount =
  | { readonly kind: 'bind'; readonly target: string; readonly source: string; readonly from?: number; readonly readwrite: boolean }
  | {
      readonly kind: 'cache';
      readonly target: string;
      readonly id: string;
      readonly sharing: 'shared' | 'private' | 'locked';
      readonly from?: number;
      readonly source: string;
      readonly mode: number;
      readonly uid: number;
      readonly gid: number;
      readonly readonly: boolean;
    }
  | { readonly kind: 'tmpfs'; readonly target: string; readonly sizeBytes?: number }
  | {
      readonly kind: 'secret';
      readonly id: string;
      readonly target?: string;
      readonly env?: string;
      readonly required: boolean;
      readonly mode: number;
      readonly uid: number;
      readonly gid: number;
    }
  | { readonly kind: 'ssh'; readonly id: string; readonly target?: string; readonly required: boolean };

export type Op =
  | { readonly kind: 'source-scratch' }
  /** A base image by reference, looked up in the local image store (or a registry later). */
  | { readonly kind: 'source-image'; readonly ref: string; readonly platform: Platform }
  /** A local directory handed in by the client: "context" or a named build context. */
  | { readonly kind: 'source-local'; readonly name: string; readonly exclude: readonly string[] }
  | {
      readonly kind: 'exec';
      readonly args: readonly string[];
      readonly env: readonly string[];
      readonly cwd: string;
      readonly user: string;
      readonly network: 'default' | 'none' | 'host';
      readonly security: 'sandbox' | 'insecure';
      /** Inputs referenced by mounts use their `from` index into the op's inputs (input 0 is the root). */
      readonly mounts: readonly RunMount[];
    }
  | { readonly kind: 'file'; readonly actions: readonly FileAction[] };

/** A node of the graph. `digest` is the sha256 of the canonical form of `op` and the input digests. */
export interface Vertex {
  readonly digest: Digest;
  readonly op: Op;
  readonly inputs: readonly Vertex[];
  /** What progress shows, e.g. "[build 2/4] RUN make". Not part of the digest. */
  readonly name: string;
  readonly location?: SourceLocation;
  /** The stage this vertex belongs to (name or index), for progress and graphs. */
  readonly stage?: string;
}

/** The OCI image config's "config" object. */
export interface ImageRuntimeConfig {
  readonly User?: string;
  readonly ExposedPorts?: Readonly<Record<string, Record<string, never>>>;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[];
  readonly Cmd?: readonly string[];
  readonly Volumes?: Readonly<Record<string, Record<string, never>>>;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
  readonly ArgsEscaped?: boolean;
  readonly Healthcheck?: {
    readonly Test: readonly string[];
    readonly Interval?: number;
    readonly Timeout?: number;
    readonly StartPeriod?: number;
    readonly StartInterval?: number;
    readonly Retries?: number;
  };
  readonly OnBuild?: readonly string[];
  readonly Shell?: readonly string[];
}

/** One OCI history entry. `layerOf` names the vertex whose diff is this entry's layer (empty_layer if it added none). */
export interface HistoryStep {
  readonly createdBy: string;
  readonly comment?: string;
  readonly created?: string;
  readonly emptyLayer?: boolean;
  readonly layerOf?: Digest;
}

/** The image a stage produces: its root vertex and the config that goes with it. */
export interface StageImage {
  readonly root: Vertex;
  readonly platform: Platform;
  readonly config: ImageRuntimeConfig;
  /** Base image history followed by this stage's steps. */
  readonly history: readonly HistoryStep[];
  /** The image's author (MAINTAINER, or inherited from the base image). */
  readonly author?: string;
}

/** A positioned warning (build checks, unused build args). */
export interface BuildWarning {
  readonly rule: string;
  readonly message: string;
  readonly location?: SourceLocation;
  readonly url?: string;
}

/** The frontend's answer for one build request. */
export interface BuildDefinition {
  readonly target: StageImage;
  readonly warnings: readonly BuildWarning[];
}

/** What the frontend may ask about a base image while lowering (BuildKit's ImageMetaResolver). */
export interface ImageMetaResolver {
  resolveImageConfig(ref: string, platform: Platform): Promise<{
    readonly digest: Digest;
    readonly config: ImageRuntimeConfig;
    readonly history: readonly HistoryStep[];
    readonly author?: string;
  }>;
}
