// Progress names of vertices, BuildKit style: "[build 2/5] RUN make", "[1/3] FROM docker.io/library/busybox:latest".
import type { InstructionNode } from './ast.js';
import { expandWordDetailed, WordExpansionError, type ExpansionEnv } from './shell-lexer.js';

const NAME_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?';
const REFERENCE = new RegExp(
  `^(?:(${DOMAIN})/)?(${NAME_COMPONENT}(?:/${NAME_COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`,
);

/** Whether `ref` is a valid image reference (distribution/reference grammar, lower-case repository). */
export function isValidReference(ref: string): boolean {
  if (ref.length === 0 || ref.length > 255 + 128 + 80) return false;
  const m = REFERENCE.exec(ref);
  return m !== null;
}

/** docker.io normalization for display: "busybox" → "docker.io/library/busybox:latest". */
export function normalizeReference(ref: string): string {
  const m = REFERENCE.exec(ref);
  if (m === null) return ref;
  let domain: string | undefined = m[1];
  let path = m[2]!;
  if (domain !== undefined && !domain.includes('.') && !domain.includes(':') && domain !== 'localhost' && domain.toLowerCase() === domain) {
    path = `${domain}/${path}`;
    domain = undefined;
  }
  if (domain === undefined) {
    domain = 'docker.io';
    if (!path.includes('/')) path = `library/${path}`;
  }
  const tag = m[3] ?? (m[4] === undefined ? 'latest' : undefined);
  return `${domain}/${path}${tag === undefined ? '' : `:${tag}`}${m[4] === undefined ? '' : `@${m[4]}`}`;
}

/** Numbers the vertex-producing steps of one stage. */
export class StepCounter {
  private index = 0;

  constructor(
    /** Stage label ("build", "stage-1") or "" for the last unnamed stage. */
    private readonly label: string,
    public total: number,
  ) {}

  /** "[label i/N] text" (ONBUILD triggers say so). */
  next(text: string, onbuild = false): string {
    this.index++;
    const width = String(this.total).length;
    const count = `${String(this.index).padStart(width, ' ')}/${this.total}`;
    // Joined into one flat string: concatenation would keep a rope of every piece alive with the vertex.
    return ['[', this.label, this.label === '' ? '' : ' ', count, '] ', onbuild ? 'ONBUILD ' : '', text].join('');
  }
}

/** The instruction text for progress: keyword upper-cased, variables known to the stage expanded, quotes kept. */
export function displayText(node: InstructionNode, env: ExpansionEnv, escapeChar: string): string {
  const text = node.text.trim();
  const space = text.search(/\s/);
  const keyword = (space < 0 ? text : text.slice(0, space)).toUpperCase();
  const rest = space < 0 ? '' : text.slice(space);
  let expanded = rest;
  if (rest.includes('$')) {
    try {
      expanded = expandWordDetailed(rest, env, escapeChar, { rawQuotes: true, skipUnsetEnv: true }, false).word;
    } catch (err) {
      // A name is only for display: show the text as written when it does not expand.
      if (!(err instanceof WordExpansionError)) throw err;
    }
  }
  return keyword + expanded;
}
