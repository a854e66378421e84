// What a COPY reads from a source root, as a stream of items and entries: sources and wildcards expanded,
// .dockerignore / --exclude / --parents applied, trees walked. selectSources collects it for COPY itself and the
// cache checksum consumes it as it comes, so the key covers exactly the files that are copied.
import { lstatSync, readdirSync, type BigIntStats, type Stats } from 'node:fs';
import { KilnError } from '../errors.js';
import { ExcludeMatcher, type ParentMatchInfo } from './dockerignore.js';
import { cleanPath, hasWildcards, SourcePattern } from './path-pattern.js';
import { containerPathOf, resolveInRoot } from './resolve-in-root.js';

/** A COPY/ADD source that matches nothing (missing, outside the context, or excluded by .dockerignore). */
export class CopySourceNotFoundError extends KilnError {
  constructor(readonly source: string, wildcard: boolean, fromContext = true) {
    super(
      fromContext
        ? wildcard
          ? `no source files were specified: ${JSON.stringify(source)} matches no file in the build context (or every match is excluded by .dockerignore)`
          : `file not found in build context or excluded by .dockerignore: stat ${source}: file does not exist`
        : wildcard
          ? `no source files were specified: ${JSON.stringify(source)} matches no file in the --from stage or image`
          : `file not found in the --from stage or image: stat ${source}: file does not exist`,
    );
  }
}

/** What the walk needs of a stat; both Node stat forms have it. */
export interface WalkStat {
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/** lstat that returns null for a path that is gone (ENOENT, ENOTDIR). */
export type Lstat<S extends WalkStat> = (hostPath: string) => S | null;

export interface VisitedItem<S extends WalkStat> {
  /** The source as written in the Dockerfile. */
  readonly source: string;
  /** The path as matched, before a symlink source was followed: its base name names the copy inside a dest dir. */
  readonly matchedPath: string;
  /** Where the item is, relative to the source root ("" for the root itself), after symlinks were followed. */
  readonly relPath: string;
  readonly hostPath: string;
  readonly stat: S;
}

/**
 * Receives a selection in order: each item, then (for a directory) its visible descendants, parents before
 * children, names in byte order. `entry` may return a promise to make the walk wait (back-pressure).
 */
export interface SourceVisitor<S extends WalkStat> {
  item(item: VisitedItem<S>): void;
  /** `rel` is the slash path relative to the item (never ""); symlinks inside a tree are entries, never followed. */
  entry(rel: string, hostPath: string, stat: S): void | Promise<void>;
}

export interface SelectOptions {
  /** Host directory of the source (context dir or another stage's root). */
  readonly root: string;
  /** Sources as written: paths or wildcard patterns relative to root. */
  readonly src: readonly string[];
  /** Patterns of the source itself (.dockerignore), relative to root. */
  readonly ignore: readonly string[];
  /** COPY --exclude patterns: relative to each copied directory, and to root for the top-level match. */
  readonly exclude: readonly string[];
  /** Follow a source that is itself a symlink (Docker COPY does). */
  readonly followTopSymlinks: boolean;
  /** COPY --parents: each source "pivot/./pattern" (or "pattern" with pivot "/") selects from the pivot dir by include pattern. */
  readonly parents: boolean;
  /** The root is a build context, not another stage or an image (default true): what a missing source's error says. */
  readonly fromContext?: boolean;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

// The walk uses synchronous lstat/readdir on purpose: one syscall each on a warm dentry cache, several
// times faster than a thread-pool round trip per entry, and a context walk is short.

/** Exact stats (ns times, 64-bit inode numbers): what COPY needs to reproduce a file. */
export const lstatBigInt: Lstat<BigIntStats> = (hostPath) => {
  try {
    return lstatSync(hostPath, { bigint: true });
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
};

/** Number stats: cheaper to make and to collect; callers check that the fields they use are exact. */
export const lstatNumber: Lstat<Stats> = (hostPath) => {
  try {
    return lstatSync(hostPath);
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
};

interface Filters {
  readonly ignore: ExcludeMatcher | null;
  readonly exclude: ExcludeMatcher | null;
  readonly include: ExcludeMatcher | null;
}

interface WalkInfo {
  readonly ignore: ParentMatchInfo;
  readonly exclude: ParentMatchInfo;
  readonly include: ParentMatchInfo;
}

const NO_INFO: WalkInfo = { ignore: [], exclude: [], include: [] };
const NOT_MATCHED = { excluded: false, info: [] } as const;
const MATCHED = { excluded: true, info: [] } as const;

function joinRel(a: string, b: string): string {
  return a === '' ? b : `${a}/${b}`;
}

function matcherOrNull(patterns: readonly string[]): ExcludeMatcher | null {
  const m = new ExcludeMatcher(patterns);
  return m.isEmpty ? null : m;
}

const SURROGATE = /[\uD800-\uDFFF]/;

function byteOrder(a: string, b: string): number {
  if (SURROGATE.test(a) || SURROGATE.test(b)) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedNames(hostDir: string): string[] {
  // Byte order, like Go's os.ReadDir, so walks (and checksums) are stable. UTF-16 order (the default sort) equals
  // UTF-8 byte order except around surrogate pairs; only a directory with such a name pays for byte compares.
  const names = readdirSync(hostDir);
  return names.some((name) => SURROGATE.test(name)) ? names.sort(byteOrder) : names.sort();
}

type Deferred<S extends WalkStat> =
  | { readonly kind: 'item'; readonly item: VisitedItem<S> }
  | { readonly kind: 'entry'; readonly rel: string; readonly hostPath: string; readonly stat: S };

/**
 * Hands the walk's findings to the visitor. A hidden directory (or item) still appears when something inside it is
 * visible (fsutil emits such parents lazily): it waits on a stack until its first visible descendant, or is dropped.
 */
class Emitter<S extends WalkStat> {
  private readonly deferred: Deferred<S>[] = [];
  /** Items handed to the visitor so far (a source that adds none was not found). */
  items = 0;

  constructor(private readonly visitor: SourceVisitor<S>) {}

  /** Holds back a hidden parent; returns the depth to `drop` back to once its subtree is walked. */
  defer(d: Deferred<S>): number {
    this.deferred.push(d);
    return this.deferred.length - 1;
  }

  /** Forgets what is still held back from `depth` on (nothing visible was found below it). */
  drop(depth: number): void {
    if (this.deferred.length > depth) this.deferred.length = depth;
  }

  item(item: VisitedItem<S>): void {
    this.items += 1;
    this.visitor.item(item);
  }

  entry(rel: string, hostPath: string, stat: S): void | Promise<void> {
    if (this.deferred.length === 0) return this.visitor.entry(rel, hostPath, stat);
    const waits: Promise<void>[] = [];
    for (const d of this.deferred) {
      if (d.kind === 'item') this.item(d.item);
      else {
        const wait = this.visitor.entry(d.rel, d.hostPath, d.stat);
        if (wait) waits.push(wait);
      }
    }
    this.deferred.length = 0;
    const wait = this.visitor.entry(rel, hostPath, stat);
    if (wait) waits.push(wait);
    return waits.length === 0 ? undefined : Promise.all(waits).then(() => undefined);
  }
}

class SourceWalk<S extends WalkStat> {
  constructor(
    private readonly opts: SelectOptions,
    private readonly lstat: Lstat<S>,
    private readonly out: Emitter<S>,
  ) {}

  /** Walks a directory; `rootRel` is its path from the source root, `itemRel` from the copied item. */
  async walkDir(filters: Filters, hostDir: string, rootRel: string, itemRel: string, info: WalkInfo): Promise<void> {
    const prefix = hostDir.endsWith('/') ? hostDir : `${hostDir}/`;
    const plain = filters.ignore === null && filters.exclude === null && filters.include === null;
    for (const name of sortedNames(hostDir)) {
      const hostPath = prefix + name;
      const stat = this.lstat(hostPath);
      if (stat === null) continue;
      const childItem = joinRel(itemRel, name);
      if (plain) {
        const wait = this.out.entry(childItem, hostPath, stat);
        if (wait) await wait;
        if (stat.isDirectory()) await this.walkDir(filters, hostPath, joinRel(rootRel, name), childItem, NO_INFO);
        continue;
      }
      const childRoot = joinRel(rootRel, name);
      const ig = filters.ignore?.matchInWalk(childRoot, info.ignore) ?? NOT_MATCHED;
      const ex = filters.exclude?.matchInWalk(childItem, info.exclude) ?? NOT_MATCHED;
      const inc = filters.include?.matchInWalk(childItem, info.include) ?? MATCHED;
      const childInfo: WalkInfo = { ignore: ig.info, exclude: ex.info, include: inc.info };
      if (!(ig.excluded || ex.excluded || !inc.excluded)) {
        const wait = this.out.entry(childItem, hostPath, stat);
        if (wait) await wait;
        if (stat.isDirectory()) await this.walkDir(filters, hostPath, childRoot, childItem, childInfo);
        continue;
      }
      if (!stat.isDirectory() || !mustWalkHidden(filters, ig.excluded, ex.excluded, inc.excluded, childRoot, childItem)) continue;
      const depth = this.out.defer({ kind: 'entry', rel: childItem, hostPath, stat });
      await this.walkDir(filters, hostPath, childRoot, childItem, childInfo);
      this.out.drop(depth);
    }
  }

  /** Visits the item at one found path, unless .dockerignore / --exclude hide it and everything in it. */
  async itemAt(filters: Filters, item: VisitedItem<S>, topExcluded: boolean): Promise<void> {
    const state = ignoreStateOf(filters.ignore, item.relPath);
    if (!state.reachable || topExcluded) return;
    const isDir = item.stat.isDirectory();
    if (!state.excluded) this.out.item(item);
    else if (!isDir) return;
    const depth = state.excluded ? this.out.defer({ kind: 'item', item }) : -1;
    if (isDir) await this.walkDir(filters, item.hostPath, item.relPath, '', { ignore: state.info, exclude: [], include: [] });
    if (depth >= 0) this.out.drop(depth);
  }

  async literal(filters: Filters, source: string, cleaned: string): Promise<void> {
    const { opts } = this;
    const hostPath = await resolveInRoot(opts.root, cleaned, { followFinal: opts.followTopSymlinks });
    const stat = this.lstat(hostPath);
    if (stat === null) return;
    const topExcluded = filters.exclude?.isExcluded(cleaned) ?? false;
    const relPath = containerPathOf(opts.root, hostPath).slice(1);
    await this.itemAt(filters, { source, matchedPath: cleaned, relPath, hostPath, stat }, topExcluded && cleaned !== '.');
  }

  /** fsutil's ResolveWildcards: resolve the literal prefix, then walk it matching the rest, not entering matched dirs. */
  async wildcard(filters: Filters, source: string, cleaned: string): Promise<void> {
    const { opts } = this;
    const parts = cleaned.split('/');
    const firstWild = parts.findIndex(hasWildcards);
    const base = parts.slice(0, firstWild).join('/');
    const pattern = new SourcePattern(parts.slice(firstWild).join('/'));
    const baseHost = await resolveInRoot(opts.root, base === '' ? '/' : base);
    const baseStat = this.lstat(baseHost);
    if (baseStat === null || !baseStat.isDirectory()) return;
    const visit = async (hostDir: string, rel: string): Promise<void> => {
      const prefix = hostDir.endsWith('/') ? hostDir : `${hostDir}/`;
      for (const name of sortedNames(hostDir)) {
        const childRel = joinRel(rel, name);
        const childHost = prefix + name;
        const lst = this.lstat(childHost);
        if (lst === null) continue;
        if (pattern.matches(childRel)) {
          const rootRel = containerPathOf(opts.root, childHost).slice(1);
          const target = opts.followTopSymlinks && lst.isSymbolicLink() ? await resolveInRoot(opts.root, rootRel) : childHost;
          const st = target === childHost ? lst : this.lstat(target);
          if (st === null) continue;
          const topExcluded = filters.exclude?.isExcluded(rootRel) ?? false;
          const relPath = containerPathOf(opts.root, target).slice(1);
          await this.itemAt(filters, { source, matchedPath: rootRel, relPath, hostPath: target, stat: st }, topExcluded);
        } else if (lst.isDirectory() && pattern.couldMatchInside(childRel)) {
          await visit(childHost, childRel);
        }
      }
    };
    await visit(baseHost, '');
  }

  /** --parents: the pivot dir is the item; the rest of the source is an include pattern below it. */
  async parents(filters: Filters, source: string): Promise<void> {
    const { opts } = this;
    const pivotAt = source.indexOf('/./');
    const pivot = pivotAt < 0 ? '.' : cleanPath(source.slice(0, pivotAt));
    const pattern = cleanPath(`/${pivotAt < 0 ? source : source.slice(pivotAt + 3)}`).slice(1);
    const pivotHost = await resolveInRoot(opts.root, pivot);
    const stat = this.lstat(pivotHost);
    if (stat === null || !stat.isDirectory()) return;
    const withInclude: Filters = { ...filters, include: pattern === '' ? null : new ExcludeMatcher([pattern]) };
    const relPath = containerPathOf(opts.root, pivotHost).slice(1);
    const state = ignoreStateOf(filters.ignore, relPath);
    if (!state.reachable) return;
    // The pivot appears only with something below it.
    const depth = this.out.defer({ kind: 'item', item: { source, matchedPath: relPath, relPath, hostPath: pivotHost, stat } });
    await this.walkDir(withInclude, pivotHost, relPath, '', { ...NO_INFO, ignore: state.info });
    this.out.drop(depth);
  }
}

function mustWalkHidden(
  filters: Filters,
  ignored: boolean,
  excluded: boolean,
  included: boolean,
  rootRel: string,
  itemRel: string,
): boolean {
  if (ignored && !(filters.ignore as ExcludeMatcher).mustWalkExcludedDir(rootRel)) return false;
  if (excluded && !(filters.exclude as ExcludeMatcher).mustWalkExcludedDir(itemRel)) return false;
  if (filters.include !== null && !included) return filters.include.patterns.some((p) => includeCouldMatchInside(p.cleaned, itemRel));
  return true;
}

/** An include pattern with no wildcard can only match below dirs on its own path (fsutil's onlyPrefixIncludes pruning). */
function includeCouldMatchInside(pattern: string, dirRel: string): boolean {
  if (/[*[\]?^\\]/.test(pattern)) return true;
  return `${pattern}/`.startsWith(`${dirRel}/`);
}

/** The .dockerignore state of a path found without a walk: its info for children, whether it is hidden, whether a walk would even reach it. */
function ignoreStateOf(ignore: ExcludeMatcher | null, rel: string): { excluded: boolean; reachable: boolean; info: ParentMatchInfo } {
  if (ignore === null || rel === '') return { excluded: false, reachable: true, info: [] };
  const parts = rel.split('/');
  let info: ParentMatchInfo = [];
  for (let i = 0; i < parts.length; i += 1) {
    const prefix = parts.slice(0, i + 1).join('/');
    const r = ignore.matchInWalk(prefix, info);
    info = r.info;
    if (i === parts.length - 1) return { excluded: r.excluded, reachable: true, info };
    if (r.excluded && !ignore.mustWalkExcludedDir(prefix)) return { excluded: true, reachable: false, info };
  }
  return { excluded: false, reachable: true, info };
}

/** Walks one source into `out`; how many items it added. */
async function visitSource<S extends WalkStat>(opts: SelectOptions, lstat: Lstat<S>, filters: Filters, source: string, out: Emitter<S>): Promise<number> {
  const before = out.items;
  const walk = new SourceWalk(opts, lstat, out);
  const cleaned = cleanPath(`/${source}`).slice(1) || '.';
  if (opts.parents) await walk.parents(filters, source);
  else if (cleaned.split('/').some(hasWildcards)) await walk.wildcard(filters, source, cleaned);
  else await walk.literal(filters, source, cleaned);
  return out.items - before;
}

const IGNORE_ALL: SourceVisitor<WalkStat> = { item: () => undefined, entry: () => undefined };

/**
 * Streams the selection of one COPY's sources to `visitor`, in the order COPY writes them. Every source must select
 * something (else CopySourceNotFoundError naming it). Paths never leave root: ".." and symlinks resolve inside it.
 */
export async function visitSources<S extends WalkStat>(opts: SelectOptions, lstat: Lstat<S>, visitor: SourceVisitor<S>): Promise<void> {
  const filters: Filters = { ignore: matcherOrNull(opts.ignore), exclude: matcherOrNull(opts.exclude), include: null };
  const out = new Emitter(visitor);
  for (const source of opts.src) {
    if ((await visitSource(opts, lstat, filters, source, out)) > 0) continue;
    // A source that exists but was dropped only by --exclude copies nothing without an error (BuildKit allows empty results).
    if (filters.exclude !== null && !opts.parents) {
      const plain: Filters = { ...filters, exclude: null };
      if ((await visitSource({ ...opts, exclude: [] }, lstat, plain, source, new Emitter(IGNORE_ALL))) > 0) continue;
    }
    const cleaned = cleanPath(`/${source}`).slice(1) || '.';
    throw new CopySourceNotFoundError(source, cleaned.split('/').some(hasWildcards) || opts.parents, opts.fromContext ?? true);
  }
}
