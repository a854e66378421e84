// What the solver needs from its caller: stores, executor, and the few exporter/cache functions it drives.
import type { CacheStore } from '../cache/types.js';
import type { ContentStore, Descriptor } from '../content/types.js';
import type { Executor, FileOpRunner } from '../exec/types.js';
import type { Digest, Op, Vertex } from '../llb/types.js';
import type { ProgressSink } from '../progress/types.js';
import type { LayerRef, Snapshotter } from '../snapshot/types.js';

/** A base image as the solver sees it: its manifest digest (its cache identity) and layers. */
export interface ResolvedBaseImage {
  readonly manifestDigest: Digest;
  readonly layers: readonly LayerRef[];
}

export interface SolverDeps {
  readonly content: ContentStore;
  readonly snapshots: Snapshotter;
  readonly cache: CacheStore;
  readonly executor: Executor & FileOpRunner;
  resolveBaseImage(ref: string): Promise<ResolvedBaseImage>;
  /** Turns an upper dir into a layer blob; undefined when the dir holds no change. */
  writeLayer(upperDir: string, signal: AbortSignal, onBytes: (n: number) => void): Promise<{ blob: Descriptor; diffId: string } | undefined>;
  /** Content checksum of what a COPY selects from a local directory (its .dockerignore, --exclude and --parents applied). */
  checksumLocal(opts: {
    root: string;
    src: readonly string[];
    exclude: readonly string[];
    copyExclude: readonly string[];
    parents: boolean;
    /** Each selected entry's path and checksum line, as they are hashed (for explanations and progress). */
    onEntry?: (path: string, line: string) => void;
  }): Promise<string>;
  /**
   * Steps running right now in this engine, by cache key, shared by every build of the engine so that two
   * concurrent builds run an identical step once.
   */
  readonly inflight?: Map<string, Promise<readonly LayerRef[]>>;
  /** Says why a step missed the cache, compared with the last build of the same Dockerfile and target. */
  explainMiss?(
    vertex: Vertex,
    op: Op,
    labels: Readonly<Record<string, string>>,
    files: Readonly<Record<string, Readonly<Record<string, string>>>>,
  ): Promise<string | undefined>;
}

export interface SolveOptions {
  /** Local sources by name ("context", named contexts) → host directories. */
  readonly localDirs: Readonly<Record<string, string>>;
  readonly sink: ProgressSink;
  readonly signal: AbortSignal;
  readonly maxParallelism: number;
  /** Ignore cache hits for every step (results are still recorded). */
  readonly noCache: boolean;
  /** Ignore cache hits only for the steps of these stages (--no-cache-filter). */
  readonly noCacheStages?: ReadonlySet<string>;
  /** `--allow security.insecure` was given. */
  readonly allowInsecure: boolean;
  /** Where RUN --mount=type=cache directories persist. */
  readonly cacheMountsDir: string;
  /** --secret values by id; they reach steps only through secret mounts, never keys, layers or logs. */
  readonly secrets: ReadonlyMap<string, Buffer>;
  /** A tmpfs directory for secret files while a step runs. */
  readonly secretsDir: string;
}

export type VertexResult =
  | { readonly kind: 'layers'; readonly layers: readonly LayerRef[]; readonly cached: boolean }
  | { readonly kind: 'local'; readonly name: string; readonly dir: string; readonly exclude: readonly string[] };
