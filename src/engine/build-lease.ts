// Leases in <KILN_ROOT>/leases: a running build's lease makes prune keep blobs and snapshots; a running prune's makes builds wait.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { readdirOrEmpty } from '../disk/readdir-or-empty.js';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileAtomic } from '../disk/atomic-write.js';

export type LeaseKind = 'build' | 'prune';

export interface LeaseInfo {
  readonly kind: LeaseKind;
  readonly pid: number;
  /** When the lease was taken (ms since the epoch). */
  readonly startedAt: number;
  /** The kernel's start time of the process (/proc/PID/stat field 22), so a recycled pid is not taken for the owner. */
  readonly processStart?: string;
}

export interface Lease {
  readonly info: LeaseInfo;
  release(): Promise<void>;
}

function leaseDir(root: string): string {
  return join(root, 'leases');
}

/** Field 22 of /proc/PID/stat; the command name (field 2) may hold spaces and parentheses, so count from the last ')'. */
async function processStartOf(pid: number): Promise<string | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

async function isLive(info: LeaseInfo): Promise<boolean> {
  const start = await processStartOf(info.pid);
  if (start === undefined) return false;
  return info.processStart === undefined || info.processStart === start;
}

async function writeLease(root: string, kind: LeaseKind): Promise<Lease> {
  const dir = leaseDir(root);
  await mkdir(dir, { recursive: true });
  const info: LeaseInfo = { kind, pid: process.pid, startedAt: Date.now(), ...optionalStart(await processStartOf(process.pid)) };
  const path = join(dir, `${kind}-${process.pid}-${randomBytes(6).toString('hex')}.json`);
  await writeFileAtomic(path, JSON.stringify(info));
  return { info, release: () => rm(path, { force: true }) };
}

function optionalStart(start: string | undefined): { processStart?: string } {
  return start === undefined ? {} : { processStart: start };
}

/** Leases of processes still running; leases left by dead processes are removed on the way. */
export async function liveLeases(root: string, kind: LeaseKind): Promise<LeaseInfo[]> {
  const dir = leaseDir(root);
  const live: LeaseInfo[] = [];
  for (const name of await readdirOrEmpty(dir)) {
    if (!name.startsWith(`${kind}-`) || !name.endsWith('.json')) continue;
    let info: LeaseInfo;
    try {
      info = JSON.parse(await readFile(join(dir, name), 'utf8')) as LeaseInfo;
    } catch (error) {
      // Released between readdir and read: it is not live.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    if (await isLive(info)) live.push(info);
    else await rm(join(dir, name), { force: true });
  }
  return live;
}

/**
 * Taken by a build before it looks anything up, released when it has tagged (or failed). While a prune is sweeping,
 * this waits for it to finish: the build lease is written first and the prune lock checked second, and prune does
 * the mirror image, so one of the two always sees the other.
 */
export async function acquireBuildLease(root: string, opts: { signal?: AbortSignal; pollMs?: number } = {}): Promise<Lease> {
  const lease = await writeLease(root, 'build');
  try {
    while ((await liveLeases(root, 'prune')).length > 0) await sleep(opts.pollMs ?? 100, undefined, opts.signal ? { signal: opts.signal } : {});
  } catch (error) {
    await lease.release();
    throw error;
  }
  return lease;
}

/** Taken by prune before it deletes blobs or snapshots; `liveBuilds` are the builds that were already running. */
export async function acquirePruneLock(root: string): Promise<Lease & { readonly liveBuilds: readonly LeaseInfo[] }> {
  const lease = await writeLease(root, 'prune');
  try {
    return { ...lease, liveBuilds: await liveLeases(root, 'build') };
  } catch (error) {
    await lease.release();
    throw error;
  }
}
