// Overlay snapshots on disk: committed ones are named by the layer chainID, active ones by owner pid.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, rmdirSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContentStore } from '../content/types.js';
import { processAlive } from '../disk/process-alive.js';
import { KilnError } from '../errors.js';
import { applyLayer } from './layer-apply.js';
import type { ActiveSnapshot, LayerRef, Snapshotter } from './types.js';

function hexOf(chainId: string): string {
  return chainId.replace(/^sha256:/, '');
}

export class OverlaySnapshotter implements Snapshotter {
  private readonly committedDir: string;
  private readonly activeDir: string;
  /** Unpacks in flight, so two steps needing the same layer unpack it once. */
  private readonly unpacking = new Map<string, Promise<void>>();

  constructor(
    readonly root: string,
    private readonly content: ContentStore,
  ) {
    this.committedDir = join(root, 'committed');
    this.activeDir = join(root, 'active');
  }

  async init(): Promise<void> {
    await mkdir(this.committedDir, { recursive: true });
    await mkdir(this.activeDir, { recursive: true });
  }

  fsDirOf(chainId: string): string {
    return join(this.committedDir, hexOf(chainId), 'fs');
  }

  async has(chainId: string): Promise<boolean> {
    try {
      return (await stat(this.fsDirOf(chainId))).isDirectory();
    } catch {
      return false;
    }
  }

  async lowerDirsOf(chain: readonly LayerRef[], signal?: AbortSignal): Promise<string[]> {
    for (const layer of chain) await this.ensureUnpacked(layer, signal);
    return chain.map((layer) => this.fsDirOf(layer.chainId)).reverse();
  }

  private ensureUnpacked(layer: LayerRef, signal?: AbortSignal): Promise<void> {
    const running = this.unpacking.get(layer.chainId);
    if (running) return running;
    const job = this.unpack(layer, signal).finally(() => this.unpacking.delete(layer.chainId));
    this.unpacking.set(layer.chainId, job);
    return job;
  }

  private async unpack(layer: LayerRef, signal?: AbortSignal): Promise<void> {
    if (await this.has(layer.chainId)) return;
    if (!(await this.content.has(layer.blob.digest))) {
      throw new KilnError(`layer ${layer.blob.digest} is missing from the content store; pull or rebuild the image`);
    }
    const staging = join(this.activeDir, `${process.pid}-unpack-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(join(staging, 'fs'), { recursive: true });
      const { diffId } = await applyLayer(this.content.read(layer.blob.digest), join(staging, 'fs'), { signal });
      if (diffId !== layer.diffId) {
        throw new KilnError(`layer ${layer.blob.digest} unpacks to diffID ${diffId}, but the image says ${layer.diffId}`);
      }
      await this.install(staging, layer.chainId);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** Moves a staged `<dir>/fs` into place as a committed snapshot; a concurrent identical commit wins harmlessly. */
  private async install(stagingDir: string, chainId: string): Promise<void> {
    const target = join(this.committedDir, hexOf(chainId));
    try {
      await rename(stagingDir, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
  }

  // prepare() and the common discard() make and remove three empty directories per step: synchronous calls cost
  // less than a thread-pool round trip each.
  async prepare(): Promise<ActiveSnapshot> {
    const id = `${process.pid}-${randomBytes(6).toString('hex')}`;
    const dir = join(this.activeDir, id);
    mkdirSync(join(dir, 'fs'), { recursive: true });
    mkdirSync(join(dir, 'work'));
    return { id, upperDir: join(dir, 'fs'), workDir: join(dir, 'work') };
  }

  async commit(active: ActiveSnapshot, chainId: string): Promise<void> {
    const dir = join(this.activeDir, active.id);
    // The overlay work dir is scratch space of the kernel's; it never belongs to a committed snapshot.
    await rm(join(dir, 'work'), { recursive: true, force: true });
    if (await this.has(chainId)) {
      await rm(dir, { recursive: true, force: true });
      return;
    }
    await this.install(dir, chainId);
    await rm(dir, { recursive: true, force: true });
  }

  async discard(active: ActiveSnapshot): Promise<void> {
    const dir = join(this.activeDir, active.id);
    // Most discarded snapshots are steps that changed nothing: an empty upper dir, and the kernel's scratch work dir.
    try {
      rmdirSync(join(dir, 'fs'));
      rmSync(join(dir, 'work'), { recursive: true, force: true });
      rmdirSync(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'ENOENT' && code !== 'EEXIST') throw error;
    }
    await rm(dir, { recursive: true, force: true });
  }

  async cleanupStale(): Promise<void> {
    for (const name of await readdir(this.activeDir)) {
      const pid = Number(name.split('-')[0]);
      if (!Number.isInteger(pid) || !processAlive(pid) || pid === process.pid) {
        await rm(join(this.activeDir, name), { recursive: true, force: true });
      }
    }
  }

  async list(): Promise<string[]> {
    const names = await readdir(this.committedDir);
    return names.filter((name) => /^[0-9a-f]{64}$/.test(name)).map((hex) => `sha256:${hex}`);
  }

  async remove(chainId: string): Promise<void> {
    // Rename first so a half-removed snapshot is never mistaken for a committed one.
    const target = join(this.committedDir, hexOf(chainId));
    const doomed = join(this.activeDir, `${process.pid}-remove-${randomBytes(6).toString('hex')}`);
    try {
      await rename(target, doomed);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    await rm(doomed, { recursive: true, force: true });
  }
}
