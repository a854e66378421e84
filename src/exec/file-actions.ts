// Applies a file op's actions (COPY / ADD / mkdir / mkfile) to a mounted destination root, with Docker's COPY semantics.
import type { BigIntStats } from 'node:fs';
import { chmod, lchown, lstat, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KilnError } from '../errors.js';
import { cleanPath } from '../disk/path-pattern.js';
import { selectSources, type SelectedItem } from '../disk/path-pattern-select.js';
import { containerPathOf, resolveInRoot } from '../disk/resolve-in-root.js';
import type { FileAction } from '../llb/types.js';
import { CopyDestinationError } from './copy-errors.js';
import { mkdirAllInRoot, type Owner } from './copy-mkdir.js';
import { parseChmod } from './copy-mode.js';
import { TreeWriter } from './copy-tree.js';
import { resolveChown } from './passwd.js';

/** A source tree as mounted for the file op. */
export interface ResolvedSource {
  readonly root: string;
  /** The source's own exclude patterns (.dockerignore of a build context), relative to root. */
  readonly exclude: readonly string[];
  /**
   * Files of this source are owned by 0:0 in the image unless --chown says otherwise. True for a build
   * context (BuildKit's client resets uid/gid when it sends the context), false (default) for another stage or an
   * image; it also says which of the two a missing source's error names.
   */
  readonly resetOwnership?: boolean;
}

type CopyAction = Extract<FileAction, { kind: 'copy' }>;

const ROOT_OWNER: Owner = { uid: 0, gid: 0 };

/** Applies the actions in order. Inside the executor's mount namespace; here all paths are plain host dirs. */
export async function applyFileActions(
  mergedRoot: string,
  sources: readonly (ResolvedSource | undefined)[],
  actions: readonly FileAction[],
): Promise<void> {
  for (const action of actions) {
    switch (action.kind) {
      case 'copy': {
        const source = sources[action.source];
        if (source === undefined) throw new KilnError(`COPY: the file op has no source mounted for input ${action.source}`);
        await applyCopy(mergedRoot, source, action);
        break;
      }
      case 'mkdir':
        await applyMkdir(mergedRoot, action);
        break;
      case 'mkfile':
        await applyMkfile(mergedRoot, action);
        break;
      default: {
        const never: never = action;
        throw new KilnError(`unknown file action ${JSON.stringify(never)}`);
      }
    }
  }
}

async function statOrNull(hostPath: string): Promise<BigIntStats | null> {
  try {
    return await stat(hostPath, { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}

function endsAsDirectory(dest: string): boolean {
  return dest.endsWith('/') || dest.endsWith('/.') || dest === '.';
}

async function applyCopy(mergedRoot: string, source: ResolvedSource, action: CopyAction): Promise<void> {
  const destIsDir = endsAsDirectory(action.dest);
  if (action.src.length > 1 && !destIsDir) {
    throw new CopyDestinationError(
      `When using COPY with more than one source file, the destination must be a directory and end with a / (got ${action.dest})`,
    );
  }
  const items = await selectSources({
    root: source.root,
    src: action.src,
    ignore: source.exclude,
    exclude: action.exclude,
    followTopSymlinks: true,
    parents: action.parents,
    fromContext: source.resetOwnership === true,
  });
  const owner = action.chown === undefined ? null : await resolveChown(mergedRoot, action.chown);
  const mode = action.chmod === undefined ? null : parseChmod(action.chmod);
  const created = owner ?? ROOT_OWNER;
  const dest = cleanPath(`/${action.dest}`);
  // Parents of the destination are created first, owned by the --chown user (as BuildKit's MkdirAll does).
  await mkdirAllInRoot(mergedRoot, destIsDir ? dest : path.posix.dirname(dest), 0o755, created);
  const writer = new TreeWriter({ owner, resetOwnership: source.resetOwnership ?? false, mode });
  for (const item of items) {
    if (action.unpackArchives && item.stat.isFile()) {
      // Loaded only for ADD: the tar reader is half of the init's code, and every step's init would pay to load it.
      const { detectArchive, extractArchive } = await import('./copy-archive.js');
      const compression = await detectArchive(item.hostPath, item.source);
      if (compression !== null) {
        await extractArchive({ root: mergedRoot, destDir: dest, hostPath: item.hostPath, compression, shownAs: item.source, owner });
        continue;
      }
    }
    await copyItem(mergedRoot, dest, item, writer, created);
  }
  await writer.finish();
}

/** Docker's rules: a directory copies its contents into dest; anything else goes into dest if it is a directory, else becomes dest. */
async function copyItem(mergedRoot: string, dest: string, item: SelectedItem, writer: TreeWriter, created: Owner): Promise<void> {
  const destHost = await resolveInRoot(mergedRoot, dest);
  const destStat = await statOrNull(destHost);
  if (item.stat.isDirectory()) {
    if (destStat === null) await mkdirAllInRoot(mergedRoot, dest, 0o755, created);
    else if (!destStat.isDirectory()) throw new CopyDestinationError(`cannot copy directory ${item.source} to non-directory: ${dest}`);
    const shownBase = dest === '/' ? '' : dest;
    for (const entry of item.entries) {
      await writer.write(entry.stat, entry.hostPath, `${destHost}/${entry.rel}`, `${shownBase}/${entry.rel}`);
    }
    return;
  }
  const target = destStat?.isDirectory() === true ? path.join(destHost, path.posix.basename(item.matchedPath)) : destHost;
  await writer.write(item.stat, item.hostPath, target, containerPathOf(mergedRoot, target));
}

async function ownerOf(mergedRoot: string, chown: Extract<FileAction, { kind: 'mkdir' }>['chown']): Promise<Owner> {
  return chown === undefined ? ROOT_OWNER : resolveChown(mergedRoot, chown);
}

/** WORKDIR and friends: mkdir (-p), mode and owner on what is created; an existing directory is left alone. */
async function applyMkdir(mergedRoot: string, action: Extract<FileAction, { kind: 'mkdir' }>): Promise<void> {
  const owner = await ownerOf(mergedRoot, action.chown);
  const target = cleanPath(`/${action.path}`);
  if (action.makeParents) {
    await mkdirAllInRoot(mergedRoot, target, action.mode, owner);
    return;
  }
  const hostPath = await resolveInRoot(mergedRoot, target);
  const parent = await statOrNull(path.dirname(hostPath));
  if (parent === null || !parent.isDirectory()) {
    throw new CopyDestinationError(`mkdir ${target}: parent directory ${path.posix.dirname(target)} does not exist`);
  }
  const existing = await lstat(hostPath).catch(() => null);
  if (existing !== null) {
    if (existing.isDirectory()) return;
    throw new CopyDestinationError(`mkdir ${target}: a file with that name exists`);
  }
  await mkdir(hostPath, { mode: action.mode });
  await lchown(hostPath, owner.uid, owner.gid);
  await chmod(hostPath, action.mode);
}

/** COPY heredocs: a file with given content, mode and owner; missing parents are created (0755, root). */
async function applyMkfile(mergedRoot: string, action: Extract<FileAction, { kind: 'mkfile' }>): Promise<void> {
  const owner = await ownerOf(mergedRoot, action.chown);
  const target = cleanPath(`/${action.path}`);
  await mkdirAllInRoot(mergedRoot, path.posix.dirname(target), 0o755, ROOT_OWNER);
  const hostPath = await resolveInRoot(mergedRoot, target);
  const existing = await lstat(hostPath).catch(() => null);
  if (existing?.isDirectory() === true) throw new CopyDestinationError(`cannot write file ${target}: it is a directory`);
  await writeFile(hostPath, action.data, { mode: action.mode });
  await lchown(hostPath, owner.uid, owner.gid);
  await chmod(hostPath, action.mode);
}

export { CopySourceNotFoundError } from '../disk/path-pattern-select.js';
export { CopyDestinationError, ArchiveBreakoutError, CopySourceChangedError } from './copy-errors.js';
export { InvalidChmodError } from './copy-mode.js';
