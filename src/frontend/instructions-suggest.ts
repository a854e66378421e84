// "Did you mean ...?" suggestions: the closest option by edit distance, if it is close enough.

let row = new Int32Array(64);

/** Edit distance of a and b, or a value above `max` as soon as it is certain to exceed it. */
function boundedLevenshtein(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (row.length < b.length + 1) row = new Int32Array(b.length * 2 + 1);
  for (let j = 0; j <= b.length; j++) row[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    let rowMin = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      const value = Math.min(above + 1, row[j - 1]! + 1, diagonal + cost);
      row[j] = value;
      diagonal = above;
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > max) return max + 1;
  }
  return row[b.length]!;
}

/** The best match for `value` among `options`, or undefined when nothing is plausibly meant. */
export function suggestClosest(value: string, options: Iterable<string>, caseSensitive = true): string | undefined {
  const needle = caseSensitive ? value : value.toLowerCase();
  // Like BuildKit: allow a couple of typos, more for long words.
  const limit = Math.max(2, Math.floor(needle.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const option of options) {
    const candidate = caseSensitive ? option : option.toLowerCase();
    if (candidate === needle) continue;
    const d = boundedLevenshtein(needle, candidate, bestDistance - 1);
    if (d < bestDistance) {
      bestDistance = d;
      best = option;
    }
  }
  return best;
}

/** `message` with " (did you mean X?)" appended when there is a suggestion. */
export function withSuggestion(message: string, value: string, options: Iterable<string>, caseSensitive = true): string {
  const match = suggestClosest(value, options, caseSensitive);
  return match === undefined ? message : `${message} (did you mean ${match}?)`;
}
