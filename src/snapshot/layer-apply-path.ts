// Lexical, contained resolution of archive member names inside the directory a layer is unpacked into.
// Filesystem calls are synchronous on purpose: each is a few microseconds on a local disk, while a thread-pool
// round trip per call made unpacking many small files several times slower.
import { lstatSync, mkdirSync, unlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { LayerApplyError } from './layer-apply-error.js';

/** Components of a member name below the layer root ([] is the root). "./" prefixes are fine; escapes are not. */
export function entryComponents(name: string): string[] {
  if (name.includes('\0')) throw new LayerApplyError(`layer member ${JSON.stringify(name)} has a NUL byte in its name`);
  if (name.startsWith('/')) throw new LayerApplyError(`layer member "${name}" has an absolute path; layers hold relative paths only`);
  const components: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (components.length === 0) throw new LayerApplyError(`layer member "${name}" points outside the layer root`);
      components.pop();
      continue;
    }
    components.push(part);
  }
  return components;
}

/** What a missing or whited-out parent directory needs when it has to be made on the way to a member. */
export interface ParentDirHooks {
  /** A whiteout stood where a parent directory is needed: the directory replaces a deleted lower entry. */
  readonly onReplacedWhiteout: (dir: string) => void;
}

/**
 * Makes sure every parent of `components` is a real directory under `root`, creating missing ones.
 * A symlink anywhere on the way is refused: the archive must never write through a link it (or anything) created.
 */
export function ensureParentDirs(root: string, components: readonly string[], member: string, hooks: ParentDirHooks): void {
  let dir = root;
  for (let i = 0; i < components.length - 1; i++) {
    dir = join(dir, components[i]!);
    const stat = lstatOrUndefined(dir);
    if (stat === undefined) {
      mkdirSync(dir, { mode: 0o755 });
    } else if (stat.isDirectory()) {
      continue;
    } else if (stat.isSymbolicLink()) {
      throw new LayerApplyError(`layer member "${member}" would be written through the symlink "${components.slice(0, i + 1).join('/')}"`);
    } else if (stat.isCharacterDevice() && stat.rdev === 0) {
      unlinkSync(dir);
      mkdirSync(dir, { mode: 0o755 });
      hooks.onReplacedWhiteout(dir);
    } else {
      throw new LayerApplyError(`layer member "${member}" needs "${components.slice(0, i + 1).join('/')}" to be a directory, but it is a file`);
    }
  }
}

/** Checks, without creating anything, that the parents of an existing member are real directories. */
export function assertRealParentDirs(root: string, components: readonly string[], member: string): void {
  let dir = root;
  for (let i = 0; i < components.length - 1; i++) {
    dir = join(dir, components[i]!);
    const stat = lstatOrUndefined(dir);
    if (stat === undefined || !stat.isDirectory()) {
      throw new LayerApplyError(`layer member "${member}" refers to "${components.join('/')}", which is not inside a directory of this layer`);
    }
  }
}

export function lstatOrUndefined(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}
