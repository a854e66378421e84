// What the TTY display knows about a build: steps in start order, their log tails, transfers, warnings.
import type { ProgressEvent } from './types.js';

export type StepStatus = 'running' | 'done' | 'cached' | 'failed' | 'cancelled';

/** How many finished lines a step keeps for the live display. */
export const TAIL_LINES = 6;
/** A failed step's output is printed in full after the build, up to this many lines (the rest is counted). */
const FULL_LOG_LINES = 10_000;

export interface StepView {
  readonly id: string;
  name: string;
  status: StepStatus;
  /** On the renderer's clock, not the event's `at`: a daemon's clock may differ from ours. */
  startedAt: number;
  durationMs?: number;
  message?: string;
  missReason?: string;
  /** Last finished lines, for the live tail. */
  readonly tail: string[];
  /** Every finished line while the step may still fail; emptied once it succeeds. */
  full: string[];
  omittedLines: number;
  /** Output after the last newline, per stream. */
  readonly partial: Map<'stdout' | 'stderr', string>;
}

export interface TransferView {
  readonly id: string;
  readonly label: string;
  current: number;
  total?: number;
  readonly firstAt: number;
  lastAt: number;
}

export class BuildProgress {
  private readonly stepsById = new Map<string, StepView>();
  private readonly transfersByKey = new Map<string, TransferView>();
  readonly warnings: string[] = [];
  readonly infos: string[] = [];

  constructor(private readonly now: () => number) {}

  get steps(): readonly StepView[] {
    return [...this.stepsById.values()];
  }

  get transfers(): readonly TransferView[] {
    return [...this.transfersByKey.values()];
  }

  apply(event: ProgressEvent): void {
    switch (event.kind) {
      case 'vertex-started':
        this.step(event.id, event.name).status = 'running';
        return;
      case 'vertex-cached': {
        const step = this.step(event.id, event.name);
        step.status = 'cached';
        step.durationMs = 0;
        step.full = [];
        return;
      }
      case 'vertex-done': {
        const step = this.step(event.id, event.name);
        this.flush(step);
        step.status = 'done';
        step.durationMs = event.durationMs;
        step.full = [];
        return;
      }
      case 'vertex-failed': {
        const step = this.step(event.id, event.name);
        this.flush(step);
        // The solver reports steps it stopped because a sibling failed with this exact message.
        step.status = event.message === 'cancelled' ? 'cancelled' : 'failed';
        step.durationMs = event.durationMs;
        step.message = event.message;
        return;
      }
      case 'vertex-log':
        this.log(this.step(event.id, undefined), event.stream, event.data);
        return;
      case 'vertex-miss-reason':
        this.step(event.id, event.name).missReason = event.reason;
        return;
      case 'bytes':
        this.transfer(event.id, event.label, event.current, event.total);
        return;
      case 'warning':
        this.warnings.push(event.location ? `${event.message} (${event.location})` : event.message);
        return;
      case 'info':
        this.infos.push(event.message);
        return;
      default: {
        const unknown: never = event;
        void unknown;
      }
    }
  }

  /** Finished lines plus what is being written now, newest last. */
  liveTail(step: StepView, lines: number): readonly string[] {
    const pending = [...step.partial.values()].filter((text) => text !== '');
    return [...step.tail, ...pending].slice(-lines);
  }

  private step(id: string, name: string | undefined): StepView {
    let step = this.stepsById.get(id);
    if (step === undefined) {
      step = {
        id,
        name: name ?? id,
        status: 'running',
        startedAt: this.now(),
        tail: [],
        full: [],
        omittedLines: 0,
        partial: new Map(),
      };
      this.stepsById.set(id, step);
    } else if (name !== undefined) {
      step.name = name;
    }
    return step;
  }

  private log(step: StepView, stream: 'stdout' | 'stderr', data: string): void {
    const lines = ((step.partial.get(stream) ?? '') + data).split('\n');
    step.partial.set(stream, lines.pop() ?? '');
    for (const line of lines) this.finishLine(step, line);
  }

  private flush(step: StepView): void {
    for (const [stream, rest] of step.partial) {
      if (rest !== '') this.finishLine(step, rest);
      step.partial.delete(stream);
    }
  }

  private finishLine(step: StepView, line: string): void {
    step.tail.push(line);
    if (step.tail.length > TAIL_LINES) step.tail.shift();
    if (step.status !== 'running') return;
    step.full.push(line);
    // Drop in chunks so a chatty step costs amortised O(1) per line.
    if (step.full.length > FULL_LOG_LINES + 1000) {
      step.full.splice(0, 1000);
      step.omittedLines += 1000;
    }
  }

  private transfer(id: string, label: string, current: number, total: number | undefined): void {
    const key = `${id}\0${label}`;
    const now = this.now();
    const known = this.transfersByKey.get(key);
    if (known === undefined) {
      this.transfersByKey.set(key, { id, label, current, ...(total === undefined ? {} : { total }), firstAt: now, lastAt: now });
      return;
    }
    known.current = current;
    if (total !== undefined) known.total = total;
    known.lastAt = now;
  }
}
