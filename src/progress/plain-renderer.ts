// Plain progress, one line per event, in the style of BuildKit's --progress=plain (for logs and non-TTYs).
import type { Writable } from 'node:stream';
import type { ProgressEvent, ProgressSink } from './types.js';

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export class PlainRenderer implements ProgressSink {
  private readonly numbers = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  /** Output that has not ended in a newline yet, per vertex and stream. */
  private readonly partial = new Map<string, string>();
  /** Cache-miss explanations arrive before the step starts; they are printed under its header. */
  private readonly missReasons = new Map<string, string>();

  constructor(private readonly out: Writable) {}

  private numberOf(id: string): number {
    let n = this.numbers.get(id);
    if (n === undefined) {
      n = this.numbers.size + 1;
      this.numbers.set(id, n);
    }
    return n;
  }

  private line(text: string): void {
    this.out.write(`${text}\n`);
  }

  emit(event: ProgressEvent): void {
    switch (event.kind) {
      case 'vertex-started': {
        this.startedAt.set(event.id, event.at);
        this.line(`#${this.numberOf(event.id)} ${event.name}${event.location ? `  (${event.location})` : ''}`);
        const reason = this.missReasons.get(event.id);
        if (reason !== undefined) this.line(`#${this.numberOf(event.id)} cache miss: ${reason}`);
        this.missReasons.delete(event.id);
        return;
      }
      case 'vertex-cached': {
        const n = this.numberOf(event.id);
        this.line(`#${n} ${event.name}${event.location ? `  (${event.location})` : ''}`);
        this.line(`#${n} CACHED`);
        this.line('');
        return;
      }
      case 'vertex-log': {
        const key = `${event.id}\0${event.stream}`;
        const text = (this.partial.get(key) ?? '') + event.data;
        const lines = text.split('\n');
        this.partial.set(key, lines.pop() ?? '');
        for (const line of lines) this.logLine(event.id, line);
        return;
      }
      case 'vertex-done': {
        this.flush(event.id);
        this.line(`#${this.numberOf(event.id)} DONE ${seconds(event.durationMs)}`);
        this.line('');
        return;
      }
      case 'vertex-failed': {
        this.flush(event.id);
        this.line(`#${this.numberOf(event.id)} ERROR: ${event.message}`);
        this.line('');
        return;
      }
      case 'vertex-miss-reason':
        this.missReasons.set(event.id, event.reason);
        return;
      case 'bytes':
        if (event.total !== undefined && event.current === event.total) this.line(`${event.label}: ${event.current} bytes done`);
        return;
      case 'warning':
        this.line(`WARNING: ${event.message}${event.location ? ` (${event.location})` : ''}`);
        return;
      case 'info':
        this.line(event.message);
        return;
      default: {
        const unknown: never = event;
        void unknown;
      }
    }
  }

  private logLine(id: string, text: string): void {
    const started = this.startedAt.get(id);
    const elapsed = started === undefined ? '' : ` ${((Date.now() - started) / 1000).toFixed(3)}`;
    this.line(`#${this.numberOf(id)}${elapsed} ${text}`);
  }

  private flush(id: string): void {
    for (const stream of ['stdout', 'stderr']) {
      const key = `${id}\0${stream}`;
      const rest = this.partial.get(key);
      if (rest) this.logLine(id, rest);
      this.partial.delete(key);
    }
  }
}
