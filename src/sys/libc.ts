// The one place libc is loaded through koffi. koffi itself is loaded on first use, not on import: its native addon
// costs ~10-30 ms to load, and a build whose steps are all cached (or a `kiln images`) never needs it.
import { createRequire } from 'node:module';
import { KilnError } from '../errors.js';
import { constants as osConstants } from 'node:os';

type Koffi = typeof import('koffi');
type LibcHandle = ReturnType<Koffi['load']>;
type LibcFunction = ReturnType<LibcHandle['func']>;

let koffiModule: Koffi | undefined;
function koffi(): Koffi {
  koffiModule ??= createRequire(import.meta.url)('koffi') as Koffi;
  return koffiModule;
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
