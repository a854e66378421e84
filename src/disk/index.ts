// Safe paths inside image roots and build contexts: symlink-contained resolution, source patterns, .dockerignore, atomic writes.
export { resolveInRoot, resolveInRootSync, containerPathOf, PathResolveError, MAX_SYMLINKS } from './resolve-in-root.js';
export type { ResolveInRootOptions } from './resolve-in-root.js';
export { BadPatternError, SourcePattern, matchSegment, hasWildcards, cleanPath } from './path-pattern.js';
export { ExcludeMatcher, IgnorePattern, parseDockerignore } from './dockerignore.js';
export type { ParentMatchInfo } from './dockerignore.js';
export { selectSources, CopySourceNotFoundError } from './path-pattern-select.js';
export type { SelectOptions, SelectedItem, SelectedEntry } from './path-pattern-select.js';
export { visitSources, lstatBigInt, lstatNumber } from './source-visit.js';
export type { SourceVisitor, VisitedItem, WalkStat, Lstat } from './source-visit.js';
export { writeFileAtomic, tempPathBeside, fsyncDir } from './atomic-write.js';
