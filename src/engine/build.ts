// One build, end to end: Dockerfile → graph → solved layers → image config + manifest → tags.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checksumContextSelection, StatCache } from '../cache/index.js';
import { KilnError, UsageError } from '../errors.js';
import { createExecutor } from '../exec/index.js';
import { writeImage, writeLayerFromUpperDir } from '../exporter/index.js';
import { buildDefinitionFromDockerfile, checkDockerfile } from '../frontend/index.js';
import type { BuildWarning, HistoryStep, Vertex } from '../llb/types.js';
import type { VertexState } from '../progress/graph-dot.js';
import type { ProgressSink } from '../progress/types.js';
import { Solver } from '../solver/index.js';
import { readIgnorePatterns } from './ignore-file.js';
import type { KilnRoot } from './kiln-root.js';
import { LocalImageResolver, OCI_LAYOUT_PREFIX } from './local-images.js';
import { hostPlatform } from './platform.js';
import { BuildRecord } from './build-record.js';
import { prunedStageVertices } from './pruned-stages.js';
import { readSecrets, secretsDirFor, type SecretSpec } from './secrets.js';
import type { LayerRef } from '../snapshot/types.js';
import type { CacheOption } from '../cache/cache-option.js';
import { acquireBuildLease } from './build-lease.js';
import { openBuildCacheTransfer } from './build-cache-transfer.js';

export interface BuildRequest {
  readonly contextDir: string;
  /** Path of the Dockerfile; default CONTEXT/Dockerfile. */
  readonly dockerfile?: string;
  readonly tags: readonly string[];
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly target?: string;
  readonly noCache: boolean;
  readonly maxParallelism: number;
  readonly allowInsecure: boolean;
  /** --build-context NAME=DIR | docker-image://REF | oci-layout://DIR[:TAG] */
  readonly buildContexts?: Readonly<Record<string, string>>;
  /** --secret: where each secret's value comes from. */
  readonly secrets?: Readonly<Record<string, SecretSpec>>;
  /** The client's environment, for --secret env= and bare --build-arg names. */
  readonly clientEnv?: NodeJS.ProcessEnv;
  /** --no-cache-filter: stages whose steps ignore the cache. */
  readonly noCacheFilter?: readonly string[];
  readonly cacheFrom?: readonly CacheOption[];
  readonly cacheTo?: readonly CacheOption[];
}

export interface BuildResult {
  /** The solved graph and what happened to each vertex (for `--print graph=dot`). */
  readonly graph: { readonly root: Vertex; readonly pruned: readonly Vertex[]; readonly states: ReadonlyMap<string, VertexState> };
  readonly manifestDigest: string;
  readonly configDigest: string;
  readonly warnings: readonly BuildWarning[];
}

type NamedContext = { readonly kind: 'local' } | { readonly kind: 'image'; readonly ref: string };

interface PreparedRequest {
  readonly text: string;
  readonly file: string;
  readonly contextDir: string;
  readonly excludes: readonly string[];
  readonly namedContexts: Readonly<Record<string, NamedContext>>;
  /** Local sources by name: the main context and local named contexts. */
  readonly localDirs: Readonly<Record<string, string>>;
}

function namedContextsOf(request: BuildRequest): { namedContexts: Record<string, NamedContext>; localDirs: Record<string, string> } {
  const namedContexts: Record<string, NamedContext> = {};
  const localDirs: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.buildContexts ?? {})) {
    if (value.startsWith('docker-image://')) namedContexts[name] = { kind: 'image', ref: value.slice('docker-image://'.length) };
    else if (value.startsWith(OCI_LAYOUT_PREFIX)) namedContexts[name] = { kind: 'image', ref: value };
    else if (/^[a-z][a-z0-9+.-]*:\/\//.test(value)) throw new UsageError(`--build-context ${name}=${value}: only local directories, docker-image:// and oci-layout:// are supported`);
    else {
      const dir = resolve(value);
      if (!existsSync(dir)) throw new UsageError(`--build-context ${name}=${value}: the directory ${dir} does not exist`);
      namedContexts[name] = { kind: 'local' };
      localDirs[name] = dir;
    }
  }
  return { namedContexts, localDirs };
}

async function prepare(request: BuildRequest): Promise<PreparedRequest> {
  const contextDir = resolve(request.contextDir);
  const dockerfilePath = resolve(request.dockerfile ?? join(contextDir, 'Dockerfile'));
  let text: string;
  try {
    text = await readFile(dockerfilePath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read Dockerfile ${dockerfilePath}: ${code ?? String(error)}`);
  }
  const excludes = await readIgnorePatterns(contextDir, dockerfilePath);
  const file = request.dockerfile ?? 'Dockerfile';
  const { namedContexts, localDirs } = namedContextsOf(request);
  return { text, file, contextDir, excludes, namedContexts, localDirs: { ...localDirs, context: contextDir } };
}

/** `kiln build --check`: the build checks only, no execution. */
export async function checkBuild(root: KilnRoot, request: BuildRequest): Promise<readonly BuildWarning[]> {
  const prepared = await prepare(request);
  return checkDockerfile({
    dockerfile: prepared.text,
    file: prepared.file,
    buildArgs: request.buildArgs,
    ...(request.target === undefined ? {} : { target: request.target }),
    platform: hostPlatform(),
    resolver: new LocalImageResolver(root.images, root.content),
    contextExcludes: prepared.excludes,
    namedContexts: prepared.namedContexts,
  });
}

/** State shared by the builds of one engine (one CLI process or one daemon). */
export interface EngineShared {
  readonly inflight: Map<string, Promise<readonly LayerRef[]>>;
}

export async function build(
  root: KilnRoot,
  request: BuildRequest,
  sink: ProgressSink,
  signal: AbortSignal,
  shared: EngineShared = { inflight: new Map() },
): Promise<BuildResult> {
  const lease = await acquireBuildLease(root.root, { signal });
  try {
    return await leasedBuild(root, request, sink, signal, shared);
  } finally {
    await lease.release();
  }
}

async function leasedBuild(root: KilnRoot, request: BuildRequest, sink: ProgressSink, signal: AbortSignal, shared: EngineShared): Promise<BuildResult> {
  const prepared = await prepare(request);
  const transfer = await openBuildCacheTransfer(root, { cacheFrom: request.cacheFrom ?? [], cacheTo: request.cacheTo ?? [] });
  for (const message of transfer.warnings) sink.emit({ kind: 'warning', message });
  const platform = hostPlatform();
  const resolver = new LocalImageResolver(root.images, root.content);
  const definition = await buildDefinitionFromDockerfile({
    dockerfile: prepared.text,
    file: prepared.file,
    buildArgs: request.buildArgs,
    ...(request.target === undefined ? {} : { target: request.target }),
    platform,
    resolver,
    contextExcludes: prepared.excludes,
    namedContexts: prepared.namedContexts,
  });
  const secrets = await readSecrets(request.secrets ?? {}, request.clientEnv ?? {});
  const states = new Map<string, VertexState>();
  const outer = sink;
  sink = {
    emit(event) {
      if (event.kind === 'vertex-cached') states.set(event.id, 'cached');
      else if (event.kind === 'vertex-done') states.set(event.id, 'executed');
      else if (event.kind === 'vertex-failed') states.set(event.id, 'failed');
      outer.emit(event);
    },
  };
  const statCache = await StatCache.load(root.statCachePath);
  const record = await BuildRecord.open(join(root.root, 'builds'), resolve(prepared.contextDir, prepared.file), request.target);
  const executor = createExecutor({ stateDir: root.execStateDir, prewarm: true });
  const solver = new Solver(
    {
      content: transfer.content,
      snapshots: transfer.snapshots,
      cache: transfer.cache,
      executor,
      resolveBaseImage: (ref) => resolver.load(ref),
      writeLayer: (upperDir, layerSignal, onBytes) => writeLayerFromUpperDir(upperDir, root.content, { signal: layerSignal, onBytes }),
      checksumLocal: (opts) => checksumContextSelection({ ...opts, followTopSymlinks: true, statCache }),
      inflight: shared.inflight,
      explainMiss: async (vertex, op, labels, files) => record.explain(vertex, op, labels, files),
    },
    {
      localDirs: prepared.localDirs,
      sink,
      signal,
      maxParallelism: request.maxParallelism,
      noCache: request.noCache,
      noCacheStages: new Set(request.noCacheFilter ?? []),
      allowInsecure: request.allowInsecure,
      cacheMountsDir: root.cacheMountsDir,
      secrets,
      secretsDir: secretsDirFor(root.execStateDir),
    },
  );
  const target = definition.target;
  let result;
  try {
    result = await solver.solveRoot(target.root);
  } finally {
    await executor.close();
    await statCache.save();
    await record.save();
  }
  const history = target.history.map((step) => historyEntry(step, solver));
  const nonEmpty = history.filter((entry) => !entry.empty_layer).length;
  if (nonEmpty !== result.layers.length) {
    throw new KilnError(`internal error: ${result.layers.length} layers but ${nonEmpty} non-empty history entries`);
  }
  await transfer.finish(result.layers, signal);
  const image = await writeImage(root.content, {
    layers: result.layers,
    config: target.config,
    history,
    platform: target.platform,
    ...(target.author === undefined ? {} : { author: target.author }),
  });
  for (const tag of request.tags) await root.images.tag(tag, image.manifest);
  // Like docker's dangling images: an untagged build stays reachable by its ID until it is removed.
  if (request.tags.length === 0) await root.images.keepUntagged(image.manifest);
  for (const warning of definition.warnings) sink.emit({ kind: 'warning', message: `${warning.rule}: ${warning.message}`, ...(warning.location ? { location: `${warning.location.file}:${warning.location.startLine}` } : {}) });
  const pruned = prunedStageVertices(prepared.text, prepared.file, target.root);
  for (const vertex of pruned) states.set(vertex.digest, 'pruned');
  return { graph: { root: target.root, pruned, states }, manifestDigest: image.manifest.digest, configDigest: image.configDigest, warnings: definition.warnings };
}

function historyEntry(step: HistoryStep, solver: Solver): { created_by: string; empty_layer?: boolean; comment?: string; created?: string } {
  const emptyLayer = step.layerOf === undefined ? step.emptyLayer === true : !solver.addedLayerOf(step.layerOf);
  return {
    created_by: step.createdBy,
    ...(emptyLayer ? { empty_layer: true } : {}),
    ...(step.comment === undefined ? {} : { comment: step.comment }),
    ...(step.created === undefined ? {} : { created: step.created }),
  };
}

