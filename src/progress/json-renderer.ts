// --progress=rawjson: one typed event per line, exactly the ProgressEvent objects.
import type { Writable } from 'node:stream';
import type { ProgressEvent, ProgressSink } from './types.js';

export class JsonRenderer implements ProgressSink {
  constructor(private readonly out: Writable) {}

  emit(event: ProgressEvent): void {
    this.out.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  }
}
