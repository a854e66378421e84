// Resolves a container path against a host directory, following symlinks without ever leaving it (like openat2 RESOLVE_IN_ROOT).
import { lstatSync, readlinkSync } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import { KilnError } from '../errors.js';

/** Linux's own limit on symlinks followed in one lookup. */
export const MAX_SYMLINKS = 40;

/** A path could not be resolved inside its root (too many symlinks). */
export class PathResolveError extends KilnError {
  constructor(
    message: string,
    readonly code: 'ELOOP',
    readonly root: string,
    readonly target: string,
  ) {
    super(message);
  }
}

export interface ResolveInRootOptions {
  /** Follow a symlink in the last component too (default true). False gives lstat semantics. */
  readonly followFinal?: boolean;
}

/** What the resolver asks the filesystem: the link target if `hostPath` is a symlink, else null (also when it does not exist). */
type ReadLinkIfSymlink<R> = (hostPath: string) => R;

interface ResolveState {
  /** Resolved components below root; none of them is a symlink (or they do not exist). */
  readonly done: string[];
  /** Components still to walk, next first. */
  readonly todo: string[];
  links: number;
}

function splitComponents(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

function joinHost(root: string, components: readonly string[]): string {
  return components.length === 0 ? root : path.join(root, ...components);
}

/** One step of the walk; returns the host path to look up when the next component must be checked for a symlink. */
function nextCandidate(state: ResolveState): string | null {
  while (state.todo.length > 0) {
    const component = state.todo.shift() as string;
    // ".." never climbs above root: the root is its own parent, as "/" is.
    if (component === '..') {
      state.done.pop();
      continue;
    }
    state.done.push(component);
    return component;
  }
  return null;
}

function applyLink(state: ResolveState, root: string, p: string, target: string): void {
  state.links += 1;
  if (state.links > MAX_SYMLINKS) {
    throw new PathResolveError(
      `cannot resolve ${p} in ${root}: too many levels of symbolic links (more than ${MAX_SYMLINKS})`,
      'ELOOP',
      root,
      p,
    );
  }
  state.done.pop();
  // An absolute target restarts at root, not at the host's "/".
  if (target.startsWith('/')) state.done.length = 0;
  state.todo.unshift(...splitComponents(target));
}

function startState(p: string): ResolveState {
  return { done: [], todo: splitComponents(p), links: 0 };
}

/**
 * Resolves `p` (absolute inside the container, or relative to its root) to a host path under `root`.
 * Symlinks are followed component by component; absolute targets and ".." are taken relative to root,
 * so the result never escapes it. Missing components are kept as they are (the caller may create them).
 */
export async function resolveInRoot(root: string, p: string, opts: ResolveInRootOptions = {}): Promise<string> {
  const followFinal = followsFinal(p, opts);
  const state = startState(p);
  const readLinkIfSymlink: ReadLinkIfSymlink<Promise<string | null>> = async (hostPath) => {
    try {
      const st = await lstat(hostPath);
      return st.isSymbolicLink() ? await readlink(hostPath) : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  };
  while (nextCandidate(state) !== null) {
    if (!followFinal && isLast(state)) break;
    const target = await readLinkIfSymlink(joinHost(root, state.done));
    if (target !== null) applyLink(state, root, p, target);
  }
  return joinHost(root, state.done);
}

/** Synchronous twin of resolveInRoot, for callers that cannot await (same rules, same result). */
export function resolveInRootSync(root: string, p: string, opts: ResolveInRootOptions = {}): string {
  const readLinkIfSymlink: ReadLinkIfSymlink<string | null> = (hostPath) => {
    try {
      const st = lstatSync(hostPath);
      return st.isSymbolicLink() ? readlinkSync(hostPath) : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  };
  return joinHost(root, resolveComponentsSync(root, p, opts, (components) => readLinkIfSymlink(joinHost(root, components))));
}

/**
 * The walk of resolveInRootSync over any tree: `linkAt` gives the target of the symlink at a path (components below
 * the root, none of them a symlink), or null. Returns the resolved components. `root` only names the tree in errors.
 */
export function resolveComponentsSync(
  root: string,
  p: string,
  opts: ResolveInRootOptions,
  linkAt: (components: readonly string[]) => string | null,
): string[] {
  const followFinal = followsFinal(p, opts);
  const state = startState(p);
  while (nextCandidate(state) !== null) {
    if (!followFinal && isLast(state)) break;
    const target = linkAt(state.done);
    if (target !== null) applyLink(state, root, p, target);
  }
  return state.done;
}

/** A trailing "/" or "/." asks for the directory itself, so the last link is followed whatever the option says (as in POSIX). */
function followsFinal(p: string, opts: ResolveInRootOptions): boolean {
  return (opts.followFinal ?? true) || /\/\.?$/.test(p);
}

/** True when no real component is left to walk (only "." or ".." would remain, which cannot be links). */
function isLast(state: ResolveState): boolean {
  return state.todo.length === 0;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The path of `hostPath` relative to `root` as a container path ("/a/b"), for messages and checks. */
export function containerPathOf(root: string, hostPath: string): string {
  const rel = path.relative(root, hostPath);
  return rel === '' ? '/' : `/${rel.split(path.sep).join('/')}`;
}
