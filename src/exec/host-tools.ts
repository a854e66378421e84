// Where the builder finds what it starts outside Node: util-linux tools, and kiln's own compiled helpers.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExecSetupError } from './errors.js';

const TOOL_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];

/** A host program on PATH or in the usual system dirs, or undefined when it is not installed. */
export function locateTool(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':').filter((d) => d !== ''), ...TOOL_DIRS]) {
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** A util-linux tool (see locateTool); `purpose` completes "kiln needs it to …". */
export function findTool(name: string, purpose: string): string {
  const found = locateTool(name);
  if (found === undefined) throw new ExecSetupError(`${name} (util-linux) is not installed; kiln needs it to ${purpose}`);
  return found;
}

/**
 * kiln's dist/ directory, whether this module runs from the TypeScript sources (tests), from dist/exec/ (tsc output)
 * or from dist/ (the CLI bundle).
 */
export function kilnDistDir(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts') ? path.resolve(path.dirname(here), '..', '..', 'dist') : path.dirname(here).replace(/\/exec$/, '');
}

/** A compiled file under dist/, or a setup error that says to build kiln. */
export function builtFile(relative: string, what: string): string {
  const file = path.join(kilnDistDir(), relative);
  if (!existsSync(file)) throw new ExecSetupError(`${what} ${file} is missing; build kiln first (npm run build)`);
  return file;
}
