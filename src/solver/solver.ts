// Walks the build graph: keys each vertex, reuses cached results, runs misses concurrently, cancels on failure.
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import pLimit, { type LimitFunction } from 'p-limit';
import { cacheKeyOf } from '../cache/cache-key.js';
import type { CacheRecord } from '../cache/types.js';
import { KilnError } from '../errors.js';
import type { ExecMount, FileSource, NetworkMode } from '../exec/types.js';
import type { Digest, Op, Vertex } from '../llb/types.js';
import { chainIdOf } from '../snapshot/chain-id.js';
import type { LayerRef } from '../snapshot/types.js';
import { BuildCancelledError, BuildStepError, StepFailedError } from './errors.js';
import { checkedMountSource, planRunMounts } from './run-mounts.js';
import type { SolveOptions, SolverDeps, VertexResult } from './types.js';

/** Beyond this many files in one COPY, a miss explanation names no files (the record would grow too big). */
const MAX_EXPLAINED_FILES = 2000;

/** "Dockerfile:3" (or "Dockerfile:3-5") for progress lines. */
function locationOf(vertex: Vertex): { location?: string } {
  const at = vertex.location;
  if (!at) return {};
  return { location: `${at.file}:${at.startLine}${at.endLine > at.startLine ? `-${at.endLine}` : ''}` };
}

type LayersResult = Extract<VertexResult, { kind: 'layers' }>;
type KeyedOp = Extract<Op, { kind: 'exec' | 'file' }>;

export class Solver {
  private readonly results = new Map<Digest, Promise<VertexResult>>();
  private readonly settled = new Map<Digest, VertexResult>();
  private readonly vertices = new Map<Digest, Vertex>();
  private readonly limit: LimitFunction;
  private readonly abort = new AbortController();
  private firstError: unknown;
  /**
   * Cache records being written, by key. A step's record is written in the background: the next step need not wait
   * for its fsync. solveRoot waits for all of them, so a finished build has its cache on disk; a crash only loses
   * records, each of which is written whole or not at all.
   */
  private readonly recording = new Map<string, { readonly layers: readonly LayerRef[]; readonly written: Promise<void> }>();
  /**
   * Lower dirs of the chains this build has made ready, by top chainID (which names the whole chain): each step
   * asks for its parent's chain, and checking every layer of it again per step adds up. Safe for the build's life:
   * its lease keeps prune away from its snapshots.
   */
  private readonly lowerDirs = new Map<string, Promise<string[]>>();

  constructor(
    private readonly deps: SolverDeps,
    private readonly opts: SolveOptions,
  ) {
    this.limit = pLimit(Math.max(1, opts.maxParallelism));
    if (opts.signal.aborted) this.abort.abort();
    else opts.signal.addEventListener('abort', () => this.abort.abort(), { once: true });
  }

  /** Solves `root` and everything it depends on; on failure, cancels the rest and waits for it to stop. */
  async solveRoot(root: Vertex): Promise<LayersResult> {
    try {
      const result = await this.solve(root);
      if (result.kind !== 'layers') throw new KilnError(`the build target ${root.name} is not a filesystem`);
      await Promise.all([...this.recording.values()].map((record) => record.written));
      return result;
    } catch (error) {
      this.abort.abort();
      await Promise.allSettled([...this.results.values(), ...[...this.recording.values()].map((record) => record.written)]);
      throw this.firstError ?? error;
    }
  }

  /** Writes a step's cache record in the background (see `recording`); a failure fails the build in solveRoot. */
  private record(vertex: Vertex, record: CacheRecord): void {
    const written = this.deps.cache.put(record).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      throw new StepFailedError(vertex, `the step ran, but its cache record could not be written: ${reason}`, { cause: error });
    });
    written.catch(() => undefined);
    this.recording.set(record.key, { layers: record.layers, written });
  }

  /** The chain's lower dirs, unpacked (see `lowerDirs`); a failed unpack is not remembered. */
  private lowerDirsOf(chain: readonly LayerRef[], signal: AbortSignal): Promise<string[]> {
    const top = chain.at(-1)?.chainId;
    if (top === undefined) return this.deps.snapshots.lowerDirsOf(chain, signal);
    let dirs = this.lowerDirs.get(top);
    if (dirs === undefined) {
      dirs = this.deps.snapshots.lowerDirsOf(chain, signal);
      this.lowerDirs.set(top, dirs);
      dirs.catch(() => this.lowerDirs.delete(top));
    }
    return dirs;
  }

  /** Whether the vertex's step added a layer on top of its root input (for history's empty_layer). */
  addedLayerOf(digest: Digest): boolean {
    const vertex = this.vertices.get(digest);
    if (!vertex) return false;
    const result = this.settled.get(vertex.digest);
    const parent = vertex.inputs[0] ? this.settled.get(vertex.inputs[0].digest) : undefined;
    if (result?.kind !== 'layers') return false;
    const parentCount = parent?.kind === 'layers' ? parent.layers.length : 0;
    return result.layers.length > parentCount;
  }

  private solve(vertex: Vertex): Promise<VertexResult> {
    let running = this.results.get(vertex.digest);
    if (!running) {
      this.vertices.set(vertex.digest, vertex);
      running = this.solveVertex(vertex).then(
        (result) => {
          this.settled.set(vertex.digest, result);
          return result;
        },
        (error: unknown) => {
          this.firstError ??= error;
          this.abort.abort();
          throw error;
        },
      );
      // Failures are reported through solveRoot; an unawaited sibling's rejection must not crash the process.
      running.catch(() => undefined);
      this.results.set(vertex.digest, running);
    }
    return running;
  }

  private async solveVertex(vertex: Vertex): Promise<VertexResult> {
    const inputs = await Promise.all(vertex.inputs.map((input) => this.solve(input)));
    const op = vertex.op;
    switch (op.kind) {
      case 'source-scratch':
        return { kind: 'layers', layers: [], cached: true };
      case 'source-local': {
        const dir = this.opts.localDirs[op.name];
        if (dir === undefined) throw new StepFailedError(vertex, `no local directory was given for "${op.name}"`);
        return { kind: 'local', name: op.name, dir, exclude: op.exclude };
      }
      case 'source-image':
        return this.solveImage(vertex, op.ref);
      case 'exec':
      case 'file':
        return this.solveKeyed(vertex, op, inputs);
      default: {
        const unknown: never = op;
        throw new KilnError(`unknown op ${JSON.stringify(unknown)}`);
      }
    }
  }

  private async solveImage(vertex: Vertex, ref: string): Promise<LayersResult> {
    const { sink } = this.opts;
    const image = await this.deps.resolveBaseImage(ref);
    const ready = await Promise.all(image.layers.map((layer) => this.deps.snapshots.has(layer.chainId)));
    if (ready.every(Boolean)) {
      sink.emit({ kind: 'vertex-cached', id: vertex.digest, name: vertex.name, ...locationOf(vertex) });
    } else {
      const started = Date.now();
      sink.emit({ kind: 'vertex-started', id: vertex.digest, name: vertex.name, at: started, ...locationOf(vertex) });
      await this.lowerDirsOf(image.layers, this.abort.signal);
      sink.emit({ kind: 'vertex-done', id: vertex.digest, name: vertex.name, durationMs: Date.now() - started });
    }
    return { kind: 'layers', layers: image.layers, cached: true };
  }

  /** Per keyed vertex, per files label: path → short hash of its checksum line (what changed, for explanations). */
  private readonly fileDetails = new Map<Digest, Record<string, Record<string, string>>>();

  /** Checksums a local selection, recording each file for explanations and reporting hashing progress. */
  private async checksumLocal(vertex: Vertex, label: string, opts: Omit<Parameters<SolverDeps['checksumLocal']>[0], 'onEntry'>): Promise<string> {
    const lines: [string, string][] = [];
    let count = 0;
    const id = `${vertex.digest}:${label}`;
    const digest = await this.deps.checksumLocal({
      ...opts,
      onEntry: (path, line) => {
        if (count < MAX_EXPLAINED_FILES) lines.push([path, line]);
        count++;
        if (count % 500 === 0) this.opts.sink.emit({ kind: 'bytes', id, label: 'hashing build context (files)', current: count });
      },
    });
    if (count >= 500) this.opts.sink.emit({ kind: 'bytes', id, label: 'hashing build context (files)', current: count, total: count });
    // Hashed only once it is known the selection is small enough to be explained file by file.
    const files: Record<string, string> = {};
    if (count <= MAX_EXPLAINED_FILES) for (const [path, line] of lines) files[path] = createHash('sha256').update(line).digest('hex').slice(0, 16);
    const details = this.fileDetails.get(vertex.digest) ?? {};
    details[label] = files;
    this.fileDetails.set(vertex.digest, details);
    return digest;
  }

  private async keyInputs(vertex: Vertex, op: KeyedOp, inputs: readonly VertexResult[]): Promise<Record<string, string>> {
    const labels: Record<string, string> = {};
    inputs.forEach((input, index) => {
      labels[`input${index}`] = input.kind === 'local' ? `local:${input.name}` : (input.layers.at(-1)?.chainId ?? 'scratch');
    });
    if (op.kind === 'exec') {
      // A bind of the build context reads files: their content is part of the key, as for COPY.
      await Promise.all(
        op.mounts.map(async (mount, index) => {
          if (mount.kind !== 'bind' || mount.from === undefined) return;
          const source = inputs[mount.from];
          if (source?.kind !== 'local') return;
          const within = checkedMountSource(mount.source);
          labels[`mount${index}`] = await this.checksumLocal(vertex, `mount${index}`, {
            root: source.dir,
            src: [within === '/' ? '.' : within.slice(1)],
            exclude: source.exclude,
            copyExclude: [],
            parents: false,
          });
        }),
      );
    }
    if (op.kind === 'file') {
      await Promise.all(
        op.actions.map(async (action, index) => {
          if (action.kind !== 'copy') return;
          const source = inputs[action.source];
          if (source?.kind !== 'local') return;
          labels[`files${index}`] = await this.checksumLocal(vertex, `files${index}`, {
            root: source.dir,
            src: action.src,
            exclude: source.exclude,
            copyExclude: action.exclude,
            parents: action.parents,
          });
        }),
      );
    }
    return labels;
  }

  private async solveKeyed(vertex: Vertex, op: KeyedOp, inputs: readonly VertexResult[]): Promise<LayersResult> {
    const { sink } = this.opts;
    const root = inputs[0];
    if (root?.kind !== 'layers') throw new StepFailedError(vertex, 'the step has no filesystem to run on');
    let labels: Record<string, string>;
    try {
      labels = await this.keyInputs(vertex, op, inputs);
    } catch (error) {
      // Reading the sources for the key is the first place a missing COPY source shows: name the step.
      throw new StepFailedError(vertex, error instanceof Error ? error.message : String(error), { cause: error });
    }
    const key = cacheKeyOf(op, labels);
    const skipCache = this.opts.noCache || (vertex.stage !== undefined && this.opts.noCacheStages?.has(vertex.stage) === true);
    if (!skipCache) {
      const recording = this.recording.get(key);
      if (recording) {
        sink.emit({ kind: 'vertex-cached', id: vertex.digest, name: vertex.name, ...locationOf(vertex) });
        return { kind: 'layers', layers: recording.layers, cached: true };
      }
      const record = await this.deps.cache.get(key);
      if (record && (await this.blobsPresent(record.layers))) {
        await this.deps.cache.touch(key);
        sink.emit({ kind: 'vertex-cached', id: vertex.digest, name: vertex.name, ...locationOf(vertex) });
        return { kind: 'layers', layers: record.layers, cached: true };
      }
    }
    const explained = await this.deps.explainMiss?.(vertex, op, labels, this.fileDetails.get(vertex.digest) ?? {});
    if (explained) sink.emit({ kind: 'vertex-miss-reason', id: vertex.digest, name: vertex.name, reason: explained });
    const shared = this.deps.inflight?.get(key);
    if (shared) {
      // Another build in this engine is running the very same step: wait for its result instead of running it twice.
      const started = Date.now();
      sink.emit({ kind: 'vertex-started', id: vertex.digest, name: vertex.name, at: started, ...locationOf(vertex) });
      try {
        const layers = await shared;
        sink.emit({ kind: 'vertex-done', id: vertex.digest, name: vertex.name, durationMs: Date.now() - started });
        return { kind: 'layers', layers, cached: false };
      } catch {
        // That build failed or was cancelled; its failure is its own, so run the step here.
      }
    }
    const job = this.limit(() => this.runKeyed(vertex, op, key, labels, root.layers, inputs));
    const layers = job.then((result) => result.layers);
    layers.catch(() => undefined);
    this.deps.inflight?.set(key, layers);
    try {
      return await job;
    } finally {
      if (this.deps.inflight?.get(key) === layers) this.deps.inflight.delete(key);
    }
  }

  private async runKeyed(
    vertex: Vertex,
    op: KeyedOp,
    key: string,
    labels: Readonly<Record<string, string>>,
    parent: readonly LayerRef[],
    inputs: readonly VertexResult[],
  ): Promise<LayersResult> {
    const { sink } = this.opts;
    if (this.abort.signal.aborted) throw new BuildCancelledError();
    const started = Date.now();
    sink.emit({ kind: 'vertex-started', id: vertex.digest, name: vertex.name, at: started, ...locationOf(vertex) });
    try {
      const layers = await this.execute(vertex, op, parent, inputs);
      this.record(vertex, { key, layers, createdAt: new Date().toISOString(), name: vertex.name, inputs: labels });
      sink.emit({ kind: 'vertex-done', id: vertex.digest, name: vertex.name, durationMs: Date.now() - started });
      return { kind: 'layers', layers, cached: false };
    } catch (error) {
      const message = error instanceof BuildCancelledError ? 'cancelled' : error instanceof Error ? error.message : String(error);
      sink.emit({ kind: 'vertex-failed', id: vertex.digest, name: vertex.name, message, durationMs: Date.now() - started });
      throw error;
    }
  }

  /** Cache records share their parents' layers: each blob is looked up once per build. */
  private readonly blobsSeen = new Set<string>();

  private async blobsPresent(layers: readonly LayerRef[]): Promise<boolean> {
    const missing = layers.map((layer) => layer.blob.digest).filter((digest) => !this.blobsSeen.has(digest));
    const present = await Promise.all(missing.map((digest) => this.deps.content.has(digest)));
    if (!present.every(Boolean)) return false;
    for (const digest of missing) this.blobsSeen.add(digest);
    return true;
  }

  /** Runs the op on a fresh snapshot of `parent` and commits the diff as a new layer (if it changed anything). */
  private async execute(
    vertex: Vertex,
    op: KeyedOp,
    parent: readonly LayerRef[],
    inputs: readonly VertexResult[],
  ): Promise<readonly LayerRef[]> {
    const signal = this.abort.signal;
    const lowerDirs = await this.lowerDirsOf(parent, signal);
    const active = await this.deps.snapshots.prepare();
    try {
      const rootfs = { kind: 'overlay' as const, lowerDirs, upperDir: active.upperDir, workDir: active.workDir };
      if (op.kind === 'exec') await this.runExec(vertex, op, rootfs, inputs);
      else await this.runFile(vertex, op, rootfs, inputs);
      if (signal.aborted) throw new BuildCancelledError();
      let exported = 0;
      const layer = await this.deps.writeLayer(active.upperDir, signal, (n) => {
        exported += n;
        this.opts.sink.emit({ kind: 'bytes', id: vertex.digest, label: 'exporting layer', current: exported });
      });
      if (!layer) {
        await this.deps.snapshots.discard(active);
        return parent;
      }
      const chainId = chainIdOf(parent.at(-1)?.chainId, layer.diffId);
      await this.deps.snapshots.commit(active, chainId);
      return [...parent, { blob: layer.blob, diffId: layer.diffId, chainId }];
    } catch (error) {
      await this.deps.snapshots.discard(active);
      throw error;
    }
  }

  private async runExec(
    vertex: Vertex,
    op: Extract<Op, { kind: 'exec' }>,
    rootfs: { kind: 'overlay'; lowerDirs: string[]; upperDir: string; workDir: string },
    inputs: readonly VertexResult[],
  ): Promise<void> {
    if (op.security === 'insecure' && !this.opts.allowInsecure) {
      throw new StepFailedError(vertex, 'RUN --security=insecure needs the build to be started with --allow security.insecure');
    }
    let planned;
    try {
      planned = await planRunMounts(op, inputs, {
        lowerDirsOf: (layers) => this.lowerDirsOf(layers, this.abort.signal),
        prepareScratch: () => this.deps.snapshots.prepare(),
        discardScratch: (active) => this.deps.snapshots.discard(active),
        fileOps: this.deps.executor,
        cacheMountsDir: this.opts.cacheMountsDir,
        secrets: this.opts.secrets,
        secretsDir: this.opts.secretsDir,
        signal: this.abort.signal,
      });
    } catch (error) {
      if (this.abort.signal.aborted) throw new BuildCancelledError();
      throw new StepFailedError(vertex, error instanceof Error ? error.message : String(error), { cause: error });
    }
    try {
      await this.runProcess(vertex, op, rootfs, planned.mounts, planned.env);
    } finally {
      await planned.release();
    }
  }

  private async runProcess(
    vertex: Vertex,
    op: Extract<Op, { kind: 'exec' }>,
    rootfs: { kind: 'overlay'; lowerDirs: string[]; upperDir: string; workDir: string },
    mounts: readonly ExecMount[],
    extraEnv: readonly string[],
  ): Promise<void> {
    const network: NetworkMode = op.network === 'none' ? 'none' : 'host';
    let status;
    try {
      status = await this.deps.executor.run(
      {
        rootfs,
        process: { args: op.args, env: [...op.env, ...extraEnv], cwd: op.cwd, user: op.user },
        hostname: `kiln-${vertex.digest.slice(7, 19)}`,
        network,
        mounts,
        security: op.security,
      },
      { stdout: this.logStream(vertex, 'stdout'), stderr: this.logStream(vertex, 'stderr') },
      this.abort.signal,
    );
    } catch (error) {
      // The executor rejects with the abort reason once the container is gone: that is a cancellation.
      if (this.abort.signal.aborted) throw new BuildCancelledError();
      throw new StepFailedError(vertex, error instanceof Error ? error.message : String(error), { cause: error });
    }
    if (this.abort.signal.aborted) throw new BuildCancelledError();
    if (status.code !== 0) throw new BuildStepError(vertex, op.args, status.code);
  }

  private async runFile(
    vertex: Vertex,
    op: Extract<Op, { kind: 'file' }>,
    rootfs: { kind: 'overlay'; lowerDirs: string[]; upperDir: string; workDir: string },
    inputs: readonly VertexResult[],
  ): Promise<void> {
    const sources: (FileSource | undefined)[] = [undefined];
    for (const input of inputs.slice(1)) {
      if (input.kind === 'local') sources.push({ kind: 'dir', dir: input.dir, exclude: input.exclude });
      else sources.push({ kind: 'overlay', lowerDirs: await this.lowerDirsOf(input.layers, this.abort.signal), exclude: [] });
    }
    try {
      await this.deps.executor.runFileOps({ rootfs, sources, actions: op.actions }, this.abort.signal);
    } catch (error) {
      if (this.abort.signal.aborted) throw new BuildCancelledError();
      throw new StepFailedError(vertex, error instanceof Error ? error.message : String(error), { cause: error });
    }
  }

  private logStream(vertex: Vertex, stream: 'stdout' | 'stderr'): Writable {
    const sink = this.opts.sink;
    return new Writable({
      write(chunk: Buffer, _encoding, callback) {
        sink.emit({ kind: 'vertex-log', id: vertex.digest, stream, data: chunk.toString('utf8') });
        callback();
      },
    });
  }
}
