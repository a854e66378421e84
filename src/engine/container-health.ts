// Docker's health monitor for a running container: the check config (image HEALTHCHECK merged with docker run's
// --health-* flags), probes on an interval with start period / start interval, and the starting → healthy /
// unhealthy state with a failing streak and the last five results.
import type { ImageRuntimeConfig } from '../llb/types.js';

/** A check as docker stores it: Test is ["CMD", ...], ["CMD-SHELL", cmd] or ["NONE"]; durations in ms. */
export interface HealthConfig {
  readonly test: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly startPeriodMs: number;
  readonly startIntervalMs: number;
  readonly retries: number;
}

/** docker run's --health-* flags, already parsed (ms); 0 or absent means "the image's, else the default". */
export interface HealthFlags {
  readonly cmd?: string;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly startPeriodMs?: number;
  readonly startIntervalMs?: number;
  readonly retries?: number;
  readonly none?: boolean;
}

export const HEALTH_DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3 } as const;

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthLogEntry {
  readonly start: string;
  readonly end: string;
  readonly exitCode: number;
  readonly output: string;
}

export interface HealthState {
  readonly status: HealthStatus;
  readonly failingStreak: number;
  readonly log: readonly HealthLogEntry[];
}

/** What one probe reports (exitCode -1 for a timeout). */
export interface ProbeOutcome {
  readonly exitCode: number;
  readonly output: string;
  readonly start: Date;
  readonly end: Date;
}

const NS_PER_MS = 1e6;
const MAX_LOG_ENTRIES = 5;

/** Flags over the image's HEALTHCHECK field by field, as dockerd merges them; undefined when there is no check to run. */
export function healthConfigOf(image: ImageRuntimeConfig['Healthcheck'], flags: HealthFlags): HealthConfig | undefined {
  const test = flags.none ? ['NONE'] : flags.cmd !== undefined ? ['CMD-SHELL', flags.cmd] : [...(image?.Test ?? [])];
  if (test.length === 0 || test[0] === 'NONE') return undefined;
  const pick = (flag: number | undefined, imageNs: number | undefined, fallback: number): number =>
    flag !== undefined && flag > 0 ? flag : imageNs !== undefined && imageNs > 0 ? imageNs / NS_PER_MS : fallback;
  return {
    test,
    intervalMs: pick(flags.intervalMs, image?.Interval, HEALTH_DEFAULTS.intervalMs),
    timeoutMs: pick(flags.timeoutMs, image?.Timeout, HEALTH_DEFAULTS.timeoutMs),
    startPeriodMs: pick(flags.startPeriodMs, image?.StartPeriod, HEALTH_DEFAULTS.startPeriodMs),
    startIntervalMs: pick(flags.startIntervalMs, image?.StartInterval, HEALTH_DEFAULTS.startIntervalMs),
    retries: flags.retries !== undefined && flags.retries > 0 ? flags.retries : image?.Retries !== undefined && image.Retries > 0 ? image.Retries : HEALTH_DEFAULTS.retries,
  };
}

/** The check's argv: CMD runs as given; CMD-SHELL through the image's SHELL (default /bin/sh -c), as dockerd does. */
export function healthCommand(config: HealthConfig, shell: readonly string[] | undefined): string[] {
  const [kind, ...rest] = config.test;
  if (kind === 'CMD') return rest;
  if (kind === 'CMD-SHELL') return [...(shell && shell.length > 0 ? shell : ['/bin/sh', '-c']), rest.join(' ')];
  throw new Error(`unknown health check type ${JSON.stringify(kind)} (expected CMD, CMD-SHELL or NONE)`);
}

/** One probe result applied to the state, by dockerd's rules. `startedAt` is when the container started. */
export function applyProbe(state: HealthState, config: HealthConfig, outcome: ProbeOutcome, startedAt: Date): HealthState {
  const entry: HealthLogEntry = { start: outcome.start.toISOString(), end: outcome.end.toISOString(), exitCode: outcome.exitCode, output: outcome.output };
  const log = [...state.log, entry].slice(-MAX_LOG_ENTRIES);
  if (outcome.exitCode === 0) return { status: 'healthy', failingStreak: 0, log };
  // Failures during the start period do not count while the container has never been healthy.
  const inStartPeriod = state.status === 'starting' && outcome.start.getTime() - startedAt.getTime() < config.startPeriodMs;
  if (inStartPeriod) return { ...state, log };
  const failingStreak = state.failingStreak + 1;
  return { status: failingStreak >= config.retries ? 'unhealthy' : state.status, failingStreak, log };
}

/** The wait before the next probe: the start interval while still starting inside the start period. */
export function nextProbeDelay(state: HealthState, config: HealthConfig, startedAt: Date, now: Date): number {
  const inStartPeriod = now.getTime() - startedAt.getTime() < config.startPeriodMs;
  return inStartPeriod && state.status === 'starting' ? config.startIntervalMs : config.intervalMs;
}

export interface HealthMonitor {
  /** Stops probing and waits for a probe in flight to finish (kill it through the probe's own signal). */
  stop(): Promise<void>;
}

/**
 * Probes until stopped; `onChange` gets every new state (after each probe). A probe that throws (the container is
 * going away) ends the monitor quietly once stopped, and is reported through `onError` otherwise.
 */
export function monitorHealth(
  config: HealthConfig,
  startedAt: Date,
  probe: () => Promise<ProbeOutcome>,
  onChange: (state: HealthState) => Promise<void>,
  onError: (error: unknown) => void,
): HealthMonitor {
  let state: HealthState = { status: 'starting', failingStreak: 0, log: [] };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = (async () => {
        try {
          const outcome = await probe();
          if (stopped) return;
          state = applyProbe(state, config, outcome, startedAt);
          await onChange(state);
        } catch (error) {
          if (!stopped) onError(error);
        }
        schedule();
      })();
    }, nextProbeDelay(state, config, startedAt, new Date()));
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}
