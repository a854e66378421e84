// Volumes of kiln run as docker makes them: a new (empty) named volume, and an anonymous one per image VOLUME that
// no -v covers, start with a copy of what the image has at the mount path, owners and modes kept.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { processAlive } from '../disk/process-alive.js';
import { resolveInLayersSync } from '../disk/resolve-in-layers.js';
import { FileOpError } from '../exec/index.js';
import type { ExecMount, FileOpRunner } from '../exec/index.js';

/** A volume directory that takes the image's content at `target` while it is empty (unless nocopy). */
export interface VolumeSeed {
  readonly dir: string;
  readonly target: string;
}

async function isEmptyDir(dir: string): Promise<boolean> {
  return (await readdir(dir)).length === 0;
}

/** Seed dirs are `.seed-<pid>-<random>`: one whose kiln is gone was left by a crash. */
async function sweepStaleSeeds(seedsParent: string): Promise<void> {
  for (const name of await readdir(seedsParent).catch(() => [])) {
    const owner = /^\.seed-(\d+)-/.exec(name)?.[1];
    if (owner !== undefined && !processAlive(Number(owner))) await rm(path.join(seedsParent, name), { recursive: true, force: true });
  }
}

/**
 * Copies the image's tree at `seed.target` into `seed.dir` when that is still empty. The copy is made by a file op
 * (COPY --parents from the image's layers into a scratch upper dir, so image symlinks stay inside the image), then
 * renamed over the empty volume dir: the volume root gets the image directory's owner and mode, and a concurrent
 * run that seeded first simply wins. An image without the path leaves the volume empty, as in docker.
 */
export async function seedVolume(files: FileOpRunner, imageLowerDirs: readonly string[], seed: VolumeSeed, seedsParent: string, signal: AbortSignal): Promise<void> {
  if (!(await isEmptyDir(seed.dir))) return;
  await mkdir(seedsParent, { recursive: true });
  await sweepStaleSeeds(seedsParent);
  const scratch = path.join(seedsParent, `.seed-${process.pid}-${randomBytes(6).toString('hex')}`);
  const upperDir = path.join(scratch, 'upper');
  const workDir = path.join(scratch, 'work');
  await mkdir(upperDir, { recursive: true });
  await mkdir(workDir);
  // The volume is mounted where the path leads inside the container (through the image's symlinks), so that is
  // what it starts with; the resolved path has no symlink left to follow on either side.
  const source = resolveInLayersSync(imageLowerDirs, seed.target);
  try {
    try {
      await files.runFileOps(
        {
          rootfs: { kind: 'overlay', lowerDirs: [], upperDir, workDir },
          sources: [undefined, { kind: 'overlay', lowerDirs: imageLowerDirs, exclude: [] }],
          actions: [{ kind: 'copy', source: 1, src: [source], dest: '/seed/', exclude: [], parents: true, link: false, unpackArchives: false }],
        },
        signal,
      );
    } catch (error) {
      if (error instanceof FileOpError && error.innerName === 'CopySourceNotFoundError') return;
      throw error;
    }
    const copied = path.join(upperDir, 'seed', ...source.split('/').filter((p) => p !== ''));
    try {
      // Renaming onto an empty directory replaces it; a volume that got content meanwhile keeps it (ENOTEMPTY).
      await rename(copied, seed.dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTDIR: the image has a file there, not a directory; the volume stays empty.
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR' && code !== 'ENOENT') throw error;
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The image's VOLUME paths that no -v mount covers: each gets an anonymous volume under `anonymousDir`. */
export async function anonymousVolumes(imageVolumes: Readonly<Record<string, unknown>> | undefined, mounts: readonly ExecMount[], anonymousDir: string): Promise<{ mounts: ExecMount[]; seeds: VolumeSeed[] }> {
  const taken = new Set(mounts.map((m) => path.posix.resolve('/', m.target)));
  const out: ExecMount[] = [];
  const seeds: VolumeSeed[] = [];
  for (const target of Object.keys(imageVolumes ?? {}).map((v) => path.posix.resolve('/', v))) {
    if (taken.has(target)) continue;
    taken.add(target);
    const dir = path.join(anonymousDir, randomBytes(32).toString('hex'));
    await mkdir(dir, { recursive: true });
    out.push({ kind: 'bind', source: dir, target, readonly: false });
    seeds.push({ dir, target });
  }
  return { mounts: out, seeds };
}

/** Parents before children (docker sorts mounts by depth), so a volume inside another volume is not hidden. */
export function byMountDepth(mounts: readonly ExecMount[]): ExecMount[] {
  const depth = (m: ExecMount): number => path.posix.resolve('/', m.target).split('/').filter((p) => p !== '').length;
  return mounts.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i).map(({ m }) => m);
}

