// Picks the progress renderer for --progress=auto|tty|plain|rawjson.
import { UsageError } from '../errors.js';
import { JsonRenderer, PlainRenderer, type ProgressSink } from '../progress/index.js';

export function progressSinkFor(mode: string | undefined): ProgressSink {
  const out = process.stderr;
  switch (mode ?? 'auto') {
    case 'auto':
    case 'plain':
      return new PlainRenderer(out);
    case 'rawjson':
      return new JsonRenderer(out);
    case 'tty':
      if (!out.isTTY) throw new UsageError('--progress=tty needs a terminal on stderr');
      return new PlainRenderer(out);
    default:
      throw new UsageError(`invalid --progress "${mode}": use auto, tty, plain or rawjson`);
  }
}
