// --progress=tty: BuildKit's live display, redrawn in place about ten times a second, then a final summary.
import { BuildProgress } from './tty-state.js';
import { finalSummary, liveFrame, type FrameOptions } from './tty-frame.js';
import type { ProgressEvent, ProgressSink } from './types.js';

/** Where the display goes: a terminal stream, or anything with `write` (tests); sizes are read at every frame. */
export interface TtyOutput {
  write(text: string): boolean;
  readonly columns?: number;
  readonly rows?: number;
}

export interface TtyRendererOptions {
  /** The clock for every time shown (milliseconds); tests pass a fake one. */
  readonly now?: () => number;
  /** Redraw period; 0 draws only on `redraw()` and `close()`. */
  readonly intervalMs?: number;
  /** ANSI colours (running blue, errors red, log tails dim); off when NO_COLOR is set. */
  readonly color?: boolean;
}

const ERASE_LINE = '\x1b[2K';
const ERASE_BELOW = '\x1b[J';

export class TtyRenderer implements ProgressSink {
  private readonly now: () => number;
  private readonly color: boolean;
  private readonly startedAt: number;
  private readonly progress: BuildProgress;
  private readonly timer: NodeJS.Timeout | undefined;
  /** Lines of the frame on screen now: the next redraw moves up this many. */
  private shownLines = 0;
  private shownText = '';
  private closed = false;

  constructor(
    private readonly out: TtyOutput,
    opts: TtyRendererOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.color = opts.color ?? !process.env.NO_COLOR;
    this.startedAt = this.now();
    this.progress = new BuildProgress(this.now);
    const interval = opts.intervalMs ?? 100;
    if (interval > 0) {
      // Unref'd: a display must never keep the process alive after the build is over.
      this.timer = setInterval(() => this.redraw(), interval);
      this.timer.unref();
    }
  }

  emit(event: ProgressEvent): void {
    if (!this.closed) {
      this.progress.apply(event);
      return;
    }
    // After the summary there is no frame left to update: messages print as plain lines.
    if (event.kind === 'warning') this.out.write(`WARNING: ${event.message}${event.location ? ` (${event.location})` : ''}\n`);
    if (event.kind === 'info') this.out.write(`${event.message}\n`);
  }

  /** Draws the live frame now, over the previous one (the timer calls this; so may a caller that wants a frame). */
  redraw(): void {
    if (this.closed) return;
    const lines = liveFrame(this.progress, this.frameOptions());
    const text = lines.join('\n');
    if (text === this.shownText && this.shownLines > 0) return;
    this.out.write(`${this.eraseShown()}${lines.map((line) => `${ERASE_LINE}${line}\n`).join('')}${ERASE_BELOW}`);
    this.shownLines = lines.length;
    this.shownText = text;
  }

  /** Stops the timer and replaces the live frame by the final summary; later calls do nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    const lines = finalSummary(this.progress, this.frameOptions());
    // Overwrite the frame line by line rather than clear it from its top: tmux and some terminals push a screen
    // cleared from the top-left corner into the scrollback, which would leave the last frame above the summary.
    const over = this.shownLines;
    const text = lines.map((line, index) => `${index < over ? ERASE_LINE : ''}${line}\n`).join('');
    this.out.write(`${this.eraseShown()}${text}${lines.length < over ? ERASE_BELOW : ''}`);
    this.shownLines = 0;
  }

  /** Moves the cursor to the first line of the frame on screen (every frame line ends in a newline). */
  private eraseShown(): string {
    return this.shownLines > 0 ? `\r\x1b[${this.shownLines}A` : '';
  }

  private frameOptions(): FrameOptions {
    // One column short of the terminal: a line exactly as wide as the screen wraps on some terminals.
    // A pty nobody sized (script, CI runners) reports 0 columns: fall back to the classic 80x24.
    const columns = Math.max(1, (this.out.columns || 80) - 1);
    // One row short: the cursor sits on the line below the frame, and the frame must not scroll.
    const rows = Math.max(1, (this.out.rows || 24) - 1);
    return { columns, rows, color: this.color, now: this.now(), startedAt: this.startedAt };
  }
}
