// Shell patterns of ${V#p}, ${V%p} and ${V/p/r}: `*`, `?` and `\` escapes (no brackets), as BuildKit converts them.

/** A pattern BuildKit would reject (an escape of anything but `*`, `?` or `\`). */
export class InvalidShellPattern extends Error {}

/** A shell pattern (`*`, `?`, `\` escapes; no brackets) as a regular expression. */
export function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean, flags = 'u'): RegExp {
  const cps = Array.from(pattern);
  let out = anchored ? '^' : '';
  const star = greedy ? '.*' : '.*?';
  for (let i = 0; i < cps.length; i++) {
    const tok = cps[i]!;
    switch (tok) {
      case '*':
        out += star;
        continue;
      case '?':
        out += '.';
        continue;
      case '\\': {
        // `\}` and `\/` escape the ${} syntax, not the pattern.
        const nextTok = cps[i + 1];
        if (nextTok === '}' || nextTok === '/') continue;
        i++;
        if (nextTok !== '*' && nextTok !== '?' && nextTok !== '\\') {
          throw new InvalidShellPattern(`invalid escape '\\${nextTok ?? ''}'`);
        }
        out += `\\${nextTok}`;
        continue;
      }
      case '[': case ']': case '{': case '}': case '.': case '+': case '(': case ')': case '|': case '^': case '$':
        out += `\\${tok}`;
        continue;
      default:
        out += tok;
    }
  }
  return new RegExp(out, flags);
}

export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const match = shellPatternToRegex(pattern, greedy, true).exec(value);
  return match === null ? value : value.slice(match[0].length);
}

/** Reverse a pattern without reversing its escapes: `a\*c` becomes `c\*a`. */
function reversePattern(pattern: string): string {
  const cps = Array.from(pattern);
  const out: string[] = new Array<string>(cps.length);
  const last = cps.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = cps[i]!;
    const outIdx = last - i;
    if (tok === '\\' && i !== last) {
      out[outIdx - 1] = tok;
      out[outIdx] = cps[i + 1]!;
      i += 2;
    } else {
      out[outIdx] = tok;
      i++;
    }
  }
  return out.join('');
}

function reverseString(s: string): string {
  return Array.from(s).reverse().join('');
}

/** Regular expressions cannot find the shortest rightmost match, so search the reversed value from the left. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}
