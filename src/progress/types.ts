// Typed progress events: produced by the solver and exporter, consumed by renderers and the daemon API.

export type ProgressEvent =
  | { readonly kind: 'vertex-started'; readonly id: string; readonly name: string; readonly at: number; readonly location?: string }
  | { readonly kind: 'vertex-cached'; readonly id: string; readonly name: string; readonly location?: string }
  | { readonly kind: 'vertex-done'; readonly id: string; readonly name: string; readonly durationMs: number }
  | { readonly kind: 'vertex-failed'; readonly id: string; readonly name: string; readonly message: string; readonly durationMs: number }
  | { readonly kind: 'vertex-log'; readonly id: string; readonly stream: 'stdout' | 'stderr'; readonly data: string }
  /** Why a step could not use the cache (explain-the-cache). */
  | { readonly kind: 'vertex-miss-reason'; readonly id: string; readonly name: string; readonly reason: string }
  | { readonly kind: 'bytes'; readonly id: string; readonly label: string; readonly current: number; readonly total?: number }
  | { readonly kind: 'warning'; readonly message: string; readonly location?: string }
  | { readonly kind: 'info'; readonly message: string };

/** Receives progress events; must never throw. */
export interface ProgressSink {
  emit(event: ProgressEvent): void;
}
