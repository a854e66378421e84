// The one place libc is loaded through koffi. koffi itself is loaded on first use, not on import: its native addon
// costs ~10-30 ms to load, and a build whose steps are all cached (or a `kiln images`) never needs it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KilnError } from '../errors.js';
import { constants as osConstants } from 'node:os';

type Koffi = typeof import('koffi');
type LibcHandle = ReturnType<Koffi['load']>;
type LibcFunction = ReturnType<LibcHandle['func']>;

let koffiModule: Koffi | undefined;
function koffi(): Koffi {
  koffiModule ??= recordedAddon() ?? (createRequire(import.meta.url)('koffi') as Koffi);
  return koffiModule;
}

/**
 * koffi's native addon, loaded straight from the file `npm run build` saw koffi choose (dist/koffi-addon.json):
 * koffi's own loader costs ~4 ms, paid by every step's init. The addon exports the same API (less the deprecated
 * wrappers). Undefined when there is no record beside this module (sources run by tests) or it no longer matches
 * the installed koffi, so that koffi's loader decides.
 */
function recordedAddon(): Koffi | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [here, path.dirname(here)]) {
    let record: { addon?: unknown; version?: unknown };
    try {
      record = JSON.parse(readFileSync(path.join(dir, 'koffi-addon.json'), 'utf8')) as typeof record;
    } catch {
      continue;
    }
    if (typeof record.addon !== 'string' || typeof record.version !== 'string') return undefined;
    try {
      const addon = createRequire(import.meta.url)(path.resolve(dir, record.addon)) as Partial<Koffi> & { version?: unknown };
      return addon.version === record.version && typeof addon.load === 'function' ? (addon as Koffi) : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

let libc: LibcHandle | undefined;
const declared = new Map<string, LibcFunction>();

/** A libc function from its C prototype, declared once per process. */
export function libcFunction(prototype: string): LibcFunction {
  let fn = declared.get(prototype);
  if (fn === undefined) {
    libc ??= koffi().load('libc.so.6');
    fn = libc.func(prototype);
    declared.set(prototype, fn);
  }
  return fn;
}

/** A failed system call: names the call, the path and the errno, like Node's own fs errors. */
export class SysCallError extends KilnError {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;
  readonly path: string;
  constructor(syscall: string, path: string, errno: number) {
    const code = errnoName(errno);
    super(`${syscall} ${path}: ${code} (errno ${errno})`);
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
    this.path = path;
  }
}

/** The errno of the last failed call on this thread. */
export function lastErrno(): number {
  return koffi().errno();
}

function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(osConstants.errno)) {
    if (value === errno) return name;
  }
  return `E${errno}`;
}
