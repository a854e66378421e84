// Inits started one step ahead: each waits, its Node runtime and modules loaded, until a step hands it a spec.
// Node's start-up (~60 ms here) is most of a step's overhead; the next step's init starts while this one runs.
import { createStepCgroup } from './cgroup.js';
import type { StepCgroup, StepCgroupOptions } from './cgroup.js';
import { ForkServer, cloneFlagsOf } from './fork-client.js';
import { forkInit, holdBuilder, startInit, stopInit } from './spawn-init.js';
import type { StartedInit } from './spawn-init.js';
import { createStepDir, removeStepDir } from './step-dir.js';
import type { StepDir } from './step-dir.js';

/** An init with the step directory it was started in (its cwd, and where its spec and mount points go). */
export interface StepInit {
  readonly init: StartedInit;
  readonly step: StepDir;
  /**
   * The step's cgroups, which the init joins as soon as it starts: moving a multi-threaded Node into a v1 cgroup
   * costs ~15 ms here, better spent while a spare waits than on the step's clock.
   */
  readonly cgroup: StepCgroup;
}

const SANDBOX: StepCgroupOptions = { devices: true };

/**
 * Spares kept per namespace set. One, until a step finds its spare still loading: steps then come faster than one
 * Node can start, and two start side by side. Never more: each spare left at the end is a start-up thrown away.
 */
const MAX_SPARES = 2;

export class InitPool {
  /** Inits waiting for a step; a clone that could not be made resolves to undefined. */
  private readonly idle = new Map<string, Promise<StepInit | undefined>[]>();
  private readonly spares = new Map<string, number>();
  private readonly cleanups = new Set<Promise<void>>();
  private closed = false;
  /** Clones inits for container steps (fork-server.ts); undefined once it failed, or in a pool without spares. */
  private forkServer: ForkServer | undefined;

  /**
   * `prewarm` false makes every take start a fresh init and keep none (a single `kiln run` needs no spare, and
   * starting a fork server would cost what it saves).
   */
  constructor(
    private readonly stateDir: string,
    private readonly prewarm: boolean,
  ) {
    if (prewarm) this.forkServer = startForkServer();
  }

  /**
   * An init for a container step without `--init` or a terminal: a clone from the fork server when the pool has one
   * and a clone can make `namespaces`, else as take() gives. Sandboxed steps without limits keep one clone ahead.
   */
  async takeForContainer(namespaces: readonly string[], cgroup: StepCgroupOptions): Promise<StepInit> {
    const flags = cloneFlagsOf(namespaces);
    if (this.forkServer === undefined || flags === undefined || this.closed) return this.take(namespaces, cgroup);
    if (!cgroup.devices || cgroup.limits !== undefined) return (await this.fork(flags, cgroup)) ?? this.take(namespaces, cgroup);
    const queue = this.queueOf(`clone ${flags}`);
    let taken = await nextAlive(queue);
    taken ??= await this.fork(flags, SANDBOX);
    if (taken === undefined) return this.take(namespaces, cgroup);
    if (queue.length === 0 && this.forkServer !== undefined && !this.closed) {
      const next = this.fork(flags, SANDBOX);
      next.catch(() => undefined);
      queue.push(next);
    }
    return taken;
  }

  /**
   * An init in `namespaces` and in a step cgroup made by `cgroup`: the oldest idle one if there is one alive, else a
   * new one; then spares are started up to the count. Only sandboxed steps without limits (every build step but
   * `--security=insecure`) have spares: the rest start their own.
   */
  async take(namespaces: readonly string[], cgroup: StepCgroupOptions): Promise<StepInit> {
    if (!cgroup.devices || cgroup.limits !== undefined) return this.start(namespaces, cgroup);
    const key = namespaces.join(' ');
    const queue = this.queueOf(key);
    let taken = await nextAlive(queue);
    let spares = this.spares.get(key) ?? 1;
    if (taken !== undefined && !taken.init.loaded()) {
      // Started in the background, it is now what the step waits for.
      taken.init.hurry();
      spares = Math.min(MAX_SPARES, spares + 1);
    }
    this.spares.set(key, spares);
    taken ??= await this.start(namespaces, SANDBOX);
    while (this.prewarm && !this.closed && queue.length < spares) {
      const next = this.start(namespaces, SANDBOX, true);
      next.catch(() => undefined);
      queue.push(next);
    }
    return taken;
  }

  /**
   * Removes a finished step's cgroups and directory: now when the pool keeps no spares, else in the background
   * (a build's next step need not wait for an rmdir), finished by close(). Nothing of it is in use any more.
   */
  async finish(used: StepInit): Promise<void> {
    if (!this.prewarm || this.closed) return releaseStep(used);
    // Begun on a later turn of the event loop: the removal makes some synchronous calls, which the step's own
    // continuation (its layer, its cache record) should not wait behind.
    const cleanup = new Promise<void>((resolve) => setImmediate(resolve)).then(() => releaseStep(used));
    this.cleanups.add(cleanup);
    cleanup.then(
      () => this.cleanups.delete(cleanup),
      () => undefined,
    );
  }

  /**
   * Kills the idle inits, removes their step directories and waits for the background cleanups; later takes start
   * inits without keeping spares. A cleanup's failure is reported here.
   */
  async close(): Promise<void> {
    this.closed = true;
    const waiting = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.all(waiting.map(async (pending) => {
      const unused = await pending.catch(() => undefined);
      if (unused !== undefined) await discard(unused);
    }));
    await this.forkServer?.close();
    const cleanups = [...this.cleanups];
    this.cleanups.clear();
    await Promise.all(cleanups);
  }

  /** The idle inits kept for `key`. */
  private queueOf(key: string): Promise<StepInit | undefined>[] {
    const queue = this.idle.get(key) ?? [];
    this.idle.set(key, queue);
    return queue;
  }

  /**
   * A clone from the fork server in a new step directory and cgroup; undefined (and no more fork server for this
   * pool, with a warning) when the server failed: the step then starts its own init.
   */
  private async fork(flags: number, cgroupOptions: StepCgroupOptions): Promise<StepInit | undefined> {
    const server = this.forkServer;
    if (server === undefined) return undefined;
    const step = await createStepDir(this.stateDir);
    let cgroup: StepCgroup | undefined;
    try {
      cgroup = await createStepCgroup(step.id, cgroupOptions);
      const init = await forkInit(server, flags, step.dir, cgroup.policyProcsFiles);
      holdBuilder(init, false);
      return { init, step, cgroup };
    } catch (error) {
      await cgroup?.release();
      await removeStepDir(step);
      if (this.forkServer === server) {
        this.forkServer = undefined;
        process.stderr.write(`kiln: warning: ${(error as Error).message}; each step now starts its own init\n`);
        server.close().catch(() => undefined);
      }
      return undefined;
    }
  }

  /** A new init; a `spare` one starts at background priority (see spawn-init.ts). */
  private async start(namespaces: readonly string[], cgroupOptions: StepCgroupOptions, spare = false): Promise<StepInit> {
    const step = await createStepDir(this.stateDir);
    let cgroup: StepCgroup | undefined;
    try {
      cgroup = await createStepCgroup(step.id, cgroupOptions);
      const init = startInit(namespaces, step.dir, cgroup.policyProcsFiles, spare);
      // An idle init must not keep the builder alive: if the builder exits without close(), PDEATHSIG ends the init.
      holdBuilder(init, false);
      return { init, step, cgroup };
    } catch (error) {
      await cgroup?.release();
      await removeStepDir(step);
      throw error;
    }
  }
}

/**
 * The oldest idle init of `queue`, if it is still alive. One that died while idle (killed from outside, or it could
 * not start) is cleaned up, and the caller starts a fresh one, which reports why if it fails too.
 */
async function nextAlive(queue: Promise<StepInit | undefined>[]): Promise<StepInit | undefined> {
  const taken = await queue.shift()?.catch(() => undefined);
  if (taken === undefined || !taken.init.ended()) return taken;
  await discard(taken);
  return undefined;
}

function startForkServer(): ForkServer | undefined {
  try {
    return ForkServer.start();
  } catch (error) {
    process.stderr.write(`kiln: warning: ${(error as Error).message}; each step starts its own init\n`);
    return undefined;
  }
}

/** Removes a step's cgroups (once empty) and its directory. */
async function releaseStep({ step, cgroup }: StepInit): Promise<void> {
  try {
    await cgroup.release();
  } finally {
    await removeStepDir(step);
  }
}

async function discard(unused: StepInit): Promise<void> {
  await stopInit(unused.init);
  await releaseStep(unused);
}
