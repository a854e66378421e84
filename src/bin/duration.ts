// Durations on the command line, as Go's time.ParseDuration reads them: "24h", "30m", "1h30m", "1.5h", "90s".
import { UsageError } from '../errors.js';

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

/** Milliseconds; `what` names the flag (and filter) in the error. */
export function parseDuration(text: string, what: string): number {
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const match = part.exec(text);
    if (!match) throw new UsageError(`invalid ${what} "${text}": expected a duration such as 24h, 30m or 1h30m`);
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    at = part.lastIndex;
  }
  if (at === 0) throw new UsageError(`invalid ${what} "${text}": expected a duration such as 24h, 30m or 1h30m`);
  return total;
}
