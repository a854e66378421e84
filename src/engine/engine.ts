// The engine: builds sharing one KILN_ROOT and one set of in-flight steps (the CLI runs one; a daemon many).
import type { ProgressSink } from '../progress/types.js';
import { build, type BuildRequest, type BuildResult, type EngineShared } from './build.js';
import type { KilnRoot } from './kiln-root.js';

export class Engine {
  private readonly shared: EngineShared = { inflight: new Map() };

  constructor(readonly root: KilnRoot) {}

  /** Runs one build; concurrent calls share identical steps (same cache key) instead of running them twice. */
  build(request: BuildRequest, sink: ProgressSink, signal: AbortSignal): Promise<BuildResult> {
    return build(this.root, request, sink, signal, this.shared);
  }
}
