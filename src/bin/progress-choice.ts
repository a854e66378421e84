// Picks the progress renderer for --progress=auto|tty|plain|rawjson.
import { UsageError } from '../errors.js';
import { JsonRenderer, PlainRenderer, TtyRenderer, type ProgressSink } from '../progress/index.js';

export interface ProgressDisplay {
  readonly sink: ProgressSink;
  /** Ends the display (the TTY one collapses into its summary); call it whatever the outcome. */
  close(): void;
}

export function progressDisplayFor(mode: string | undefined): ProgressDisplay {
  const out = process.stderr;
  const chosen = mode ?? process.env.BUILDKIT_PROGRESS ?? 'auto';
  switch (chosen) {
    case 'auto':
      return out.isTTY ? tty() : plain();
    case 'plain':
      return plain();
    case 'rawjson':
      return { sink: new JsonRenderer(out), close: () => undefined };
    case 'tty':
      if (!out.isTTY) throw new UsageError('--progress=tty needs a terminal on stderr; use --progress=plain');
      return tty();
    default:
      throw new UsageError(`invalid --progress "${chosen}": use auto, tty, plain or rawjson`);
  }

  function plain(): ProgressDisplay {
    return { sink: new PlainRenderer(out), close: () => undefined };
  }

  function tty(): ProgressDisplay {
    const renderer = new TtyRenderer(out);
    return { sink: renderer, close: () => renderer.close() };
  }
}
