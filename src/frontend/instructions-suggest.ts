// "Did you mean ...?" suggestions: the closest option by edit distance, if it is close enough.

function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The best match for `value` among `options`, or undefined when nothing is plausibly meant. */
export function suggestClosest(value: string, options: Iterable<string>, caseSensitive = true): string | undefined {
  const needle = caseSensitive ? value : value.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const option of options) {
    const candidate = caseSensitive ? option : option.toLowerCase();
    if (candidate === needle) continue;
    const d = levenshtein(needle, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = option;
    }
  }
  // Like BuildKit: allow a couple of typos, more for long words.
  const limit = Math.max(2, Math.floor(needle.length / 3));
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

/** `message` with " (did you mean X?)" appended when there is a suggestion. */
export function withSuggestion(message: string, value: string, options: Iterable<string>, caseSensitive = true): string {
  const match = suggestClosest(value, options, caseSensitive);
  return match === undefined ? message : `${message} (did you mean ${match}?)`;
}
