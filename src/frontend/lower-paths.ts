// Container-path arithmetic for lowering: destinations against WORKDIR, --chown and --chmod values.
import { posix } from 'node:path';
import type { ChownSpec } from '../llb/index.js';

/** A clean absolute path, keeping a trailing "/" when `keepSlash` and the input had one. */
function cleanAbsolute(p: string, keepSlash: boolean): string {
  const cleaned = posix.normalize(`/${p}`).replace(/\/+$/, '') || '/';
  if (keepSlash && p.endsWith('/') && cleaned !== '/') return `${cleaned}/`;
  return cleaned;
}

/** A COPY/ADD destination made absolute against `cwd`; "." and "" mean "into cwd" (trailing slash). */
export function destinationPath(cwd: string, dest: string): string {
  if (dest.startsWith('/')) return cleanAbsolute(dest, true);
  const rel = dest === '.' || dest === '' ? './' : dest;
  return cleanAbsolute(posix.join(cwd || '/', rel), true);
}

/** A path made absolute against `cwd`, without trailing slash (RUN --mount targets). */
export function absolutePath(cwd: string, p: string): string {
  return cleanAbsolute(p.startsWith('/') ? p : posix.join(cwd || '/', p), false);
}

/** WORKDIR: an absolute path replaces, a relative one is joined to the current directory. */
export function normalizeWorkdir(current: string, p: string): string {
  return absolutePath(current === '' ? '/' : current, p);
}

/** "user", "user:group", "1000:1000" → ChownSpec. */
export function parseChown(text: string): ChownSpec {
  const colon = text.indexOf(':');
  if (colon < 0) return { user: text };
  const user = text.slice(0, colon);
  const group = text.slice(colon + 1);
  return group === '' ? { user } : { user, group };
}

const SYMBOLIC_MODE = /^[ugoa]*[-+=][rwxXst]*(?:[-+=][rwxXst]*)*(?:,[ugoa]*[-+=][rwxXst]*(?:[-+=][rwxXst]*)*)*$/;

/** Validate --chmod: octal up to 07777, or a symbolic mode ("u+x,g-w"). Returns undefined when valid. */
export function chmodProblem(value: string): string | undefined {
  if (/^[0-7]+$/.test(value)) {
    return parseInt(value, 8) > 0o7777 ? `invalid chmod parameter: '${value}'. it should be octal string and between 0 and 07777` : undefined;
  }
  if (SYMBOLIC_MODE.test(value)) return undefined;
  return `invalid chmod parameter: '${value}'. it should be octal string and between 0 and 07777, or a symbolic mode like u+x`;
}
