// RUN --mount: turns the Dockerfile's mount specs into executor mounts (bind, cache, tmpfs, secret), and back out.
import { createHash, randomBytes } from 'node:crypto';
import { chown, copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { resolveInRoot } from '../disk/resolve-in-root.js';
import { takeFileLock, tryFileLock } from '../disk/file-lock.js';
import { KilnError, NotSupportedError } from '../errors.js';
import type { ExecMount, FileOpRunner } from '../exec/types.js';
import type { Op, RunMount } from '../llb/types.js';
import type { ActiveSnapshot, LayerRef } from '../snapshot/types.js';
import { subpathOfLayers } from './layer-subpath.js';
import type { VertexResult } from './types.js';

export interface RunMountDeps {
  lowerDirsOf(layers: readonly LayerRef[]): Promise<string[]>;
  prepareScratch(): Promise<ActiveSnapshot>;
  discardScratch(active: ActiveSnapshot): Promise<void>;
  readonly fileOps: FileOpRunner;
  /** Persistent cache mount directories. */
  readonly cacheMountsDir: string;
  /** Secret values by id (from --secret); never written to disk outside a tmpfs. */
  readonly secrets: ReadonlyMap<string, Buffer>;
  /** A tmpfs-backed directory for secret files while a step runs. */
  readonly secretsDir: string;
  readonly signal: AbortSignal;
}

export interface PlannedMounts {
  readonly mounts: readonly ExecMount[];
  /** Extra environment (secrets with env=). */
  readonly env: readonly string[];
  release(): Promise<void>;
}

/** Refuses sources that climb out of their root ("../x"): they must stay inside the stage or context. */
export function checkedMountSource(source: string): string {
  const normal = posix.normalize(source);
  if (normal === '..' || normal.startsWith('../') || normal.startsWith('/..')) {
    throw new KilnError(`mount source "${source}" is outside its root (the build context or the stage it comes from)`);
  }
  return posix.normalize(`/${normal}`);
}

export async function planRunMounts(
  op: Extract<Op, { kind: 'exec' }>,
  inputs: readonly VertexResult[],
  deps: RunMountDeps,
): Promise<PlannedMounts> {
  const mounts: ExecMount[] = [];
  const env: string[] = [];
  const releases: Array<() => Promise<void>> = [];
  const release = async (): Promise<void> => {
    for (const undo of releases.reverse()) await undo();
  };
  try {
    for (const mount of op.mounts) {
      const planned = await planOne(mount, inputs, deps, releases, env);
      if (planned) mounts.push(planned);
    }
  } catch (error) {
    await release();
    throw error;
  }
  return { mounts, env, release };
}

async function scratch(deps: RunMountDeps, releases: Array<() => Promise<void>>): Promise<ActiveSnapshot> {
  const active = await deps.prepareScratch();
  releases.push(() => deps.discardScratch(active));
  return active;
}

async function planOne(
  mount: RunMount,
  inputs: readonly VertexResult[],
  deps: RunMountDeps,
  releases: Array<() => Promise<void>>,
  env: string[],
): Promise<ExecMount | undefined> {
  switch (mount.kind) {
    case 'bind':
      return planBind(mount, inputs, deps, releases);
    case 'cache':
      return planCache(mount, inputs, deps, releases);
    case 'tmpfs':
      return { kind: 'tmpfs', target: mount.target, ...(mount.sizeBytes === undefined ? {} : { sizeBytes: mount.sizeBytes }) };
    case 'secret':
      return planSecret(mount, deps, releases, env);
    case 'ssh':
      throw new NotSupportedError('RUN --mount=type=ssh is not supported yet (kiln has no SSH agent forwarding)');
    default: {
      const unknown: never = mount;
      throw new KilnError(`unknown mount ${JSON.stringify(unknown)}`);
    }
  }
}

async function planBind(
  mount: Extract<RunMount, { kind: 'bind' }>,
  inputs: readonly VertexResult[],
  deps: RunMountDeps,
  releases: Array<() => Promise<void>>,
): Promise<ExecMount> {
  const source = checkedMountSource(mount.source);
  const input = mount.from === undefined ? undefined : inputs[mount.from];
  if (!input) throw new KilnError(`RUN --mount=type=bind,target=${mount.target}: its source was not solved`);
  if (input.kind === 'local') {
    // The context as the build sees it: .dockerignore applies, so ignored files are never visible to RUN.
    let isDir: boolean;
    try {
      isDir = (await stat(await resolveInRoot(input.dir, source))).isDirectory();
    } catch (error) {
      throw new KilnError(`mount source ${source} does not exist in the build context`, { cause: error });
    }
    const filtered = await scratch(deps, releases);
    await deps.fileOps.runFileOps(
      {
        rootfs: { kind: 'overlay', lowerDirs: [], upperDir: filtered.upperDir, workDir: filtered.workDir },
        sources: [undefined, { kind: 'dir', dir: input.dir, exclude: input.exclude }],
        actions: [{ kind: 'copy', source: 1, src: [source === '/' ? '.' : source.slice(1)], dest: '/', exclude: [], parents: false, link: false, unpackArchives: false }],
      },
      deps.signal,
    );
    // A private copy either way, so read-write writes are discarded and the context is never written to.
    const copied = isDir ? filtered.upperDir : join(filtered.upperDir, posix.basename(source));
    return { kind: 'bind', source: copied, target: mount.target, readonly: !mount.readwrite };
  }
  const view = await subpathOfLayers(await deps.lowerDirsOf(input.layers), source);
  if (view.kind === 'file') {
    if (!mount.readwrite) return { kind: 'bind', source: view.path, target: mount.target, readonly: true };
    // Writes to a read-write bind are discarded: give the step its own copy.
    const copy = await scratch(deps, releases);
    const file = join(copy.upperDir, 'file');
    await copyFile(view.path, file);
    return { kind: 'bind', source: file, target: mount.target, readonly: false };
  }
  if (!mount.readwrite) return { kind: 'overlay-ro', lowerDirs: view.lowerDirs, target: mount.target };
  const upper = await scratch(deps, releases);
  return { kind: 'overlay-rw-discard', lowerDirs: view.lowerDirs, upperDir: upper.upperDir, workDir: upper.workDir, target: mount.target };
}

async function planCache(
  mount: Extract<RunMount, { kind: 'cache' }>,
  inputs: readonly VertexResult[],
  deps: RunMountDeps,
  releases: Array<() => Promise<void>>,
): Promise<ExecMount> {
  const base = join(deps.cacheMountsDir, createHash('sha256').update(mount.id).digest('hex').slice(0, 32));
  let dir = base;
  if (mount.sharing === 'locked') {
    releases.push(await takeFileLock(`${base}.lock`, 3_600_000));
  } else if (mount.sharing === 'private') {
    // Private: each concurrent user gets its own instance; later builds reuse whichever instance is free.
    for (let instance = 0; ; instance++) {
      const candidate = instance === 0 ? base : `${base}-${instance}`;
      const unlock = await tryFileLock(`${candidate}.lock`);
      if (unlock) {
        releases.push(unlock);
        dir = candidate;
        break;
      }
    }
  }
  if (!(await exists(dir))) {
    // Built beside the final path and renamed in, so a crash never leaves a half-seeded cache behind.
    const staging = `${dir}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(staging, { mode: mount.mode });
      await chown(staging, mount.uid, mount.gid);
      if (mount.from !== undefined) await seedCache(mount, inputs, deps, releases, staging);
      await writeFile(`${dir}.id`, mount.id);
      await rename(staging, dir).catch(async (error: NodeJS.ErrnoException) => {
        // Another step created it first: use theirs.
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  return { kind: 'bind', source: dir, target: mount.target, readonly: mount.readonly };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** from=/source= of a new cache mount: its first content is a copy of that stage's (or the context's) directory. */
async function seedCache(
  mount: Extract<RunMount, { kind: 'cache' }>,
  inputs: readonly VertexResult[],
  deps: RunMountDeps,
  releases: Array<() => Promise<void>>,
  into: string,
): Promise<void> {
  const input = inputs[mount.from!];
  if (!input) throw new KilnError(`RUN --mount=type=cache,target=${mount.target}: its from= source was not solved`);
  const source = checkedMountSource(mount.source);
  const copy = await scratch(deps, releases);
  const from =
    input.kind === 'local'
      ? { kind: 'dir' as const, dir: input.dir, exclude: input.exclude }
      : { kind: 'overlay' as const, lowerDirs: await deps.lowerDirsOf(input.layers), exclude: [] };
  await deps.fileOps.runFileOps(
    {
      rootfs: { kind: 'overlay', lowerDirs: [], upperDir: copy.upperDir, workDir: copy.workDir },
      sources: [undefined, from],
      actions: [{ kind: 'copy', source: 1, src: [source === '/' ? '.' : source.slice(1)], dest: '/', exclude: [], parents: false, link: false, unpackArchives: false }],
    },
    deps.signal,
  );
  for (const name of await readdir(copy.upperDir)) await rename(join(copy.upperDir, name), join(into, name));
}

async function planSecret(
  mount: Extract<RunMount, { kind: 'secret' }>,
  deps: RunMountDeps,
  releases: Array<() => Promise<void>>,
  env: string[],
): Promise<ExecMount | undefined> {
  const value = deps.secrets.get(mount.id);
  if (value === undefined) {
    if (mount.required) throw new KilnError(`secret "${mount.id}" is required but was not given (kiln build --secret id=${mount.id},src=FILE)`);
    return undefined;
  }
  if (mount.env !== undefined) env.push(`${mount.env}=${value.toString('utf8')}`);
  if (mount.target === undefined) return undefined;
  await mkdir(deps.secretsDir, { recursive: true, mode: 0o700 });
  const file = join(deps.secretsDir, `${process.pid}-${randomBytes(8).toString('hex')}`);
  await writeFile(file, value, { mode: 0o400 });
  releases.push(() => rm(file, { force: true }));
  return { kind: 'file', source: file, target: mount.target, mode: mount.mode, uid: mount.uid, gid: mount.gid };
}
