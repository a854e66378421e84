// Running containers as `kiln ps` lists them: one record per `kiln run`, under KILN_ROOT/containers/<id>/, written
// atomically and removed when the run ends (kiln keeps no stopped containers); a dead kiln's records are swept.
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../disk/atomic-write.js';
import { processAlive } from '../disk/process-alive.js';
import type { HealthState } from './container-health.js';

export interface ContainerRecord {
  /** 64 hex digits, like a docker container ID. */
  readonly id: string;
  readonly name?: string;
  /** The image as the user named it. */
  readonly image: string;
  readonly command: readonly string[];
  readonly created: string;
  /** When the command started (set once the container runs). */
  readonly started?: string;
  /** The `kiln run` process that owns the container: a record whose owner is gone is stale. */
  readonly kilnPid: number;
  /** Absent when the container has no health check. */
  readonly health?: HealthState;
}

const RECORD_FILE = 'state.json';

export function containersDir(kilnRoot: string): string {
  return join(kilnRoot, 'containers');
}

/** The container's own directory (its record, its anonymous volumes). */
export function containerDir(kilnRoot: string, id: string): string {
  return join(containersDir(kilnRoot), id);
}

export async function writeContainerRecord(kilnRoot: string, record: ContainerRecord): Promise<void> {
  const dir = containerDir(kilnRoot, record.id);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, RECORD_FILE), `${JSON.stringify(record)}\n`, 0o600);
}

export async function removeContainer(kilnRoot: string, id: string): Promise<void> {
  await rm(containerDir(kilnRoot, id), { recursive: true, force: true });
}

const ID = /^[0-9a-f]{64}$/;

/** Records of containers whose kiln is still running, oldest first. */
export async function listContainers(kilnRoot: string): Promise<ContainerRecord[]> {
  const records: ContainerRecord[] = [];
  for (const name of await readdir(containersDir(kilnRoot)).catch(() => [])) {
    if (!ID.test(name)) continue;
    const text = await readFile(join(containersDir(kilnRoot), name, RECORD_FILE), 'utf8').catch((err: NodeJS.ErrnoException) => {
      // Being created (no record yet) or removed right now.
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw err;
    });
    if (text === undefined) continue;
    const record = JSON.parse(text) as ContainerRecord;
    if (processAlive(record.kilnPid)) records.push(record);
  }
  return records.sort((a, b) => a.created.localeCompare(b.created));
}

/** Removes what a crashed `kiln run` left: container dirs whose record names a dead kiln, or that never got one. */
export async function sweepStaleContainers(kilnRoot: string): Promise<void> {
  for (const name of await readdir(containersDir(kilnRoot)).catch(() => [])) {
    if (!ID.test(name)) continue;
    const dir = join(containersDir(kilnRoot), name);
    const text = await readFile(join(dir, RECORD_FILE), 'utf8').catch(() => undefined);
    // The owner writes its record right after creating the dir, so only a dead owner leaves one without it for long.
    const owner = text === undefined ? undefined : (JSON.parse(text) as ContainerRecord).kilnPid;
    if (owner !== undefined && processAlive(owner)) continue;
    if (owner === undefined && !(await olderThan(dir, 60_000))) continue;
    await rm(dir, { recursive: true, force: true });
  }
}

async function olderThan(dir: string, ms: number): Promise<boolean> {
  const info = await stat(dir).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > ms;
}
