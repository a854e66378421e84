// kiln run: an image's entrypoint + cmd in the same executor RUN steps use, on a throwaway snapshot.
import { randomBytes } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { KilnError, UsageError } from '../errors.js';
import { DEFAULT_PATH, createExecutor, swapLimitSupported } from '../exec/index.js';
import type { ContainerHandle } from '../exec/types.js';
import { defaultKilnRoot, openKilnRoot } from '../engine/kiln-root.js';
import { loadLocalImage } from '../engine/local-images.js';
import { claimContainerName, claimMadeUpName, sweepStaleNameClaims } from './container-names.js';
import { boolFlag, keyValues, listFlag, optional, parseFlags, stringFlag } from './flags.js';
import { readEnvFile, resourceLimits, volumeMount } from './run-options.js';
import type { VolumeMount } from './run-options.js';
import { anonymousVolumes, byMountDepth, seedVolume } from './run-volumes.js';
import { HEALTH_FLAGS, healthConfigFromFlags, startHealthMonitor } from './run-health.js';
import type { HealthMonitor, HealthState } from '../engine/container-health.js';
import { containerDir, removeContainer, sweepStaleContainers, writeContainerRecord } from '../engine/container-records.js';
import type { ContainerRecord } from '../engine/container-records.js';

const RUN_FLAGS = {
  rm: { type: 'boolean' },
  env: { type: 'string', short: 'e', multiple: true },
  'env-file': { type: 'string', multiple: true },
  workdir: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  entrypoint: { type: 'string' },
  network: { type: 'string' },
  hostname: { type: 'string', short: 'h' },
  name: { type: 'string' },
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  volume: { type: 'string', short: 'v', multiple: true },
  'read-only': { type: 'boolean' },
  memory: { type: 'string', short: 'm' },
  'memory-swap': { type: 'string' },
  cpus: { type: 'string' },
  'pids-limit': { type: 'string' },
  init: { type: 'boolean' },
  'stop-signal': { type: 'string' },
  'stop-timeout': { type: 'string' },
  ...HEALTH_FLAGS,
} as const;

/** docker's rule: image Env, then --env-file, then -e, each overriding by name; PATH always present. */
function mergeEnv(layers: ReadonlyArray<readonly string[]>): string[] {
  const merged = new Map<string, string>();
  for (const layer of layers) for (const entry of layer) merged.set(entry.split('=', 1)[0]!, entry);
  if (!merged.has('PATH')) merged.set('PATH', `PATH=${DEFAULT_PATH}`);
  return [...merged.values()];
}

/** "TERM", "SIGTERM" or "15" → "SIGTERM" (STOPSIGNAL and --stop-signal accept all three). */
function signalName(text: string): NodeJS.Signals {
  const numeric = Number(text);
  if (Number.isInteger(numeric)) {
    const found = Object.entries(osConstants.signals).find(([, n]) => n === numeric);
    if (found) return found[0] as NodeJS.Signals;
    throw new UsageError(`unknown signal ${text}`);
  }
  const upper = text.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  if (!(name in osConstants.signals)) throw new UsageError(`unknown signal ${text}`);
  return name as NodeJS.Signals;
}

export async function runCommand(args: readonly string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseFlags('run', args, RUN_FLAGS, true);
  const [imageName, ...commandArgs] = positionals;
  if (imageName === undefined) throw new UsageError('kiln run: an IMAGE is required (usage: kiln run [OPTIONS] IMAGE [COMMAND] [ARG...])');
  const network = stringFlag(values, 'network') ?? 'host';
  if (network !== 'host' && network !== 'none') throw new UsageError(`kiln run: invalid --network "${network}": use host or none`);
  const tty = boolFlag(values, 'tty');
  const interactive = boolFlag(values, 'interactive');
  // docker's rule: a pty fed from a pipe would never see EOF (the pipe's end is not a terminal's ^D), so it would hang.
  if (tty && interactive && !process.stdin.isTTY) throw new KilnError('kiln run: the input device is not a TTY (-t with -i needs a terminal on stdin; drop -t to pipe input)');
  const memorySwap = stringFlag(values, 'memory-swap');
  const { limits, warnings } = resourceLimits(
    {
      ...optional('memory', stringFlag(values, 'memory')),
      ...optional('memorySwap', memorySwap),
      ...optional('cpus', stringFlag(values, 'cpus')),
      ...optional('pids', stringFlag(values, 'pids-limit')),
    },
    // Only looked at when there is a memory limit: it reads the cgroup mounts.
    stringFlag(values, 'memory') === undefined || swapLimitSupported(),
  );
  for (const warning of warnings) process.stderr.write(`WARNING: ${warning}\n`);
  const stopTimeoutText = stringFlag(values, 'stop-timeout') ?? '10';
  const stopTimeout = Number(stopTimeoutText);
  if (!Number.isFinite(stopTimeout) || stopTimeout < 0) throw new UsageError(`kiln run: invalid --stop-timeout "${stopTimeoutText}": seconds are required`);

  const root = await openKilnRoot(defaultKilnRoot());
  const image = await loadLocalImage(root.images, root.content, imageName);
  const config = image.config;
  const entrypointFlag = stringFlag(values, 'entrypoint');
  const entrypoint = entrypointFlag !== undefined ? (entrypointFlag === '' ? [] : [entrypointFlag]) : [...(config.Entrypoint ?? [])];
  // Like docker: --entrypoint drops the image's CMD; arguments replace it.
  const cmd = commandArgs.length > 0 ? commandArgs : entrypointFlag !== undefined ? [] : [...(config.Cmd ?? [])];
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) throw new UsageError(`kiln run: image ${imageName} has no CMD or ENTRYPOINT; give a command`);
  const envFiles: string[] = [];
  for (const file of listFlag(values, 'env-file')) envFiles.push(...(await readEnvFile(file, process.env)));
  const flagEnv = Object.entries(keyValues('run', '--env', listFlag(values, 'env'), process.env)).map(([key, value]) => `${key}=${value}`);
  const volumes: VolumeMount[] = [];
  for (const spec of listFlag(values, 'volume')) volumes.push(await volumeMount(spec, join(root.root, 'volumes')));
  const stopSignal = signalName(stringFlag(values, 'stop-signal') ?? config.StopSignal ?? 'SIGTERM');
  const health = healthConfigFromFlags(values, config.Healthcheck);
  const processEnv = mergeEnv([config.Env ?? [], envFiles, flagEnv]);
  const cwd = stringFlag(values, 'workdir') ?? (config.WorkingDir || '/');
  const user = stringFlag(values, 'user') ?? config.User ?? '';

  const given = stringFlag(values, 'name');
  const claimed =
    given === undefined
      ? await claimMadeUpName(join(root.root, 'containers'))
      : { name: given, release: await claimContainerName(join(root.root, 'containers'), given) };
  const { name } = claimed;
  const releaseName = claimed.release;
  await sweepStaleContainers(root.root);
  await sweepStaleNameClaims(join(root.root, 'containers'));
  // What `kiln ps` shows; every change is written atomically, one write at a time and in order.
  let record: ContainerRecord = {
    id: randomBytes(32).toString('hex'),
    name,
    image: imageName,
    command: argv,
    created: new Date().toISOString(),
    kilnPid: process.pid,
  };
  await writeContainerRecord(root.root, record);
  let recordWrites = Promise.resolve();
  const updateRecord = (change: Partial<ContainerRecord>): Promise<void> => {
    record = { ...record, ...change };
    const snapshot = record;
    // The container goes on without its record; kiln ps then shows the last state written.
    const report = (error: unknown): void => void process.stderr.write(`kiln: cannot update the container's record: ${error instanceof Error ? error.message : String(error)}\n`);
    recordWrites = recordWrites.then(() => writeContainerRecord(root.root, snapshot)).catch(report);
    return recordWrites;
  };
  let monitor: HealthMonitor | undefined;
  let ended = false;
  const lowerDirs = await root.snapshots.lowerDirsOf(image.layers, signal);
  const executor = createExecutor({ stateDir: root.execStateDir });
  // Anonymous volumes live in the container's own dir, so they go with it (kiln keeps no stopped containers: --rm).
  let mounts;
  try {
    const anonymous = await anonymousVolumes(config.Volumes, volumes.map((v) => v.mount), join(containerDir(root.root, record.id), 'volumes'));
    const seeds = [...volumes.flatMap((v) => (v.seed ? [v.seed] : [])), ...anonymous.seeds];
    for (const seed of seeds) await seedVolume(executor, lowerDirs, seed, join(root.root, 'volumes'), signal);
    mounts = byMountDepth([...volumes.map((v) => v.mount), ...anonymous.mounts]);
  } catch (error) {
    await executor.close();
    await removeContainer(root.root, record.id);
    await releaseName();
    throw error;
  }
  const active = await root.snapshots.prepare();
  const kill = new AbortController();
  let container: ContainerHandle | undefined;
  let stopTimer: NodeJS.Timeout | undefined;
  // Signals that arrive while the container is still starting are held and passed on once it runs: dropping
  // them would leave a SIGTERM'd kiln waiting --stop-timeout for a SIGKILL.
  const held: NodeJS.Signals[] = [];
  const passOn = (sig: NodeJS.Signals): void => {
    if (container) container.kill(sig);
    else held.push(sig);
  };
  // kiln run forwards signals to the container instead of cancelling (docker's --sig-proxy):
  // SIGINT goes through as is; SIGTERM becomes the image's STOPSIGNAL, then SIGKILL after --stop-timeout.
  const onInterrupt = (): void => passOn('SIGINT');
  // The other signals docker's proxy passes on. Without a listener, SIGHUP (a closed terminal) would kill kiln
  // itself and leave the container's layer for the next start to clean. SIGUSR1 stays Node's (the debugger).
  const passedOn = ['SIGHUP', 'SIGQUIT', 'SIGUSR2'] as const;
  const onPassedOn = (sig: NodeJS.Signals): void => passOn(sig);
  const onTerminate = (): void => {
    passOn(stopSignal);
    // docker stop's SIGKILL: the container dies of it and kiln run exits 137; before it started, the run is cancelled.
    stopTimer ??= setTimeout(() => (container ? container.kill('SIGKILL') : kill.abort()), stopTimeout * 1000);
  };
  const onResize = (): void => container?.resize({ rows: process.stdout.rows || 24, columns: process.stdout.columns || 80 });
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onTerminate);
  for (const sig of passedOn) process.on(sig, onPassedOn);
  // Node's own SIGWINCH listener refreshes rows/columns and then emits 'resize'; a SIGWINCH listener of ours
  // could run first and pass the old size on.
  if (tty && process.stdout.isTTY) process.stdout.on('resize', onResize);
  const rawMode = tty && interactive && process.stdin.isTTY;
  if (rawMode) process.stdin.setRawMode(true);
  signal.addEventListener('abort', () => kill.abort(), { once: true });
  try {
    const status = await executor.run(
      {
        rootfs: { kind: 'overlay', lowerDirs, upperDir: active.upperDir, workDir: active.workDir },
        process: {
          args: argv,
          env: processEnv,
          cwd,
          user,
          ...(tty ? { tty: true } : {}),
          ...(boolFlag(values, 'init') ? { init: true } : {}),
        },
        // docker's default hostname: the short container ID.
        hostname: stringFlag(values, 'hostname') ?? record.id.slice(0, 12),
        network,
        mounts,
        ...(boolFlag(values, 'read-only') ? { readonlyRootfs: true } : {}),
        ...(limits ? { limits } : {}),
      },
      {
        ...(interactive ? { stdin: process.stdin } : {}),
        stdout: process.stdout,
        stderr: process.stderr,
        ...(tty ? { ttySize: { rows: process.stdout.rows || 24, columns: process.stdout.columns || 80 } } : {}),
        onStart: (handle) => {
          container = handle;
          for (const sig of held.splice(0)) handle.kill(sig);
          const startedAt = new Date();
          const starting: HealthState | undefined = health ? { status: 'starting', failingStreak: 0, log: [] } : undefined;
          void updateRecord({ started: startedAt.toISOString(), ...(starting ? { health: starting } : {}) });
          if (health) {
            const target = { pid: handle.pid, env: processEnv, cwd, user, shell: config.Shell, scratchDir: containerDir(root.root, record.id) };
            monitor = startHealthMonitor(health, target, startedAt, (state) => updateRecord({ health: state }), () => !ended);
          }
        },
      },
      kill.signal,
    );
    return status.code;
  } catch (error) {
    if (error instanceof KilnError) throw error;
    throw new KilnError(`kiln run ${imageName}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    ended = true;
    // A check in flight ends with the container's pid namespace; waiting for it releases its hold on the mounts.
    await monitor?.stop();
    if (stopTimer) clearTimeout(stopTimer);
    if (rawMode) process.stdin.setRawMode(false);
    if (interactive) process.stdin.pause();
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onTerminate);
    for (const sig of passedOn) process.off(sig, onPassedOn);
    process.stdout.off('resize', onResize);
    // kiln keeps no stopped containers: the writable layer always goes (docker's --rm behaviour).
    await executor.close();
    await root.snapshots.discard(active);
    await recordWrites;
    await removeContainer(root.root, record.id);
    await releaseName();
  }
}
