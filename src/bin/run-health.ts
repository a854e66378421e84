// kiln run's health checks: docker run's --health-* flags, and the monitor that probes the running container and
// keeps its record (what `kiln ps` shows) up to date.
import { KilnError, UsageError } from '../errors.js';
import type { ImageRuntimeConfig } from '../llb/types.js';
import { healthCommand, healthConfigOf, monitorHealth } from '../engine/container-health.js';
import type { HealthConfig, HealthFlags, HealthMonitor, HealthState } from '../engine/container-health.js';
import { ContainerGoneError, probeContainer } from '../exec/index.js';
import { parseDuration } from './duration.js';
import type { FlagValues } from './flags.js';
import { boolFlag, optional, stringFlag } from './flags.js';

export const HEALTH_FLAGS = {
  'health-cmd': { type: 'string' },
  'health-interval': { type: 'string' },
  'health-timeout': { type: 'string' },
  'health-retries': { type: 'string' },
  'health-start-period': { type: 'string' },
  'health-start-interval': { type: 'string' },
  'no-healthcheck': { type: 'boolean' },
} as const;

/** A --health-* duration: a Go duration, 0 for "the image's or the default", else at least 1ms (dockerd's rule). */
function durationFlag(values: FlagValues, name: string): number | undefined {
  const text = stringFlag(values, name);
  if (text === undefined) return undefined;
  const ms = parseDuration(text, `--${name}`);
  if (ms > 0 && ms < 1) throw new UsageError(`invalid --${name} "${text}": it must be 0 or at least 1ms`);
  return ms;
}

/** The health check docker run would run: the image's HEALTHCHECK with the flags over it; undefined for none. */
export function healthConfigFromFlags(values: FlagValues, image: ImageRuntimeConfig['Healthcheck']): HealthConfig | undefined {
  const retriesText = stringFlag(values, 'health-retries');
  const retries = retriesText === undefined ? undefined : Number(retriesText);
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0)) throw new UsageError(`invalid --health-retries "${retriesText}": a whole number of at least 0 is required`);
  const flags: HealthFlags = {
    ...optional('cmd', stringFlag(values, 'health-cmd')),
    ...optional('intervalMs', durationFlag(values, 'health-interval')),
    ...optional('timeoutMs', durationFlag(values, 'health-timeout')),
    ...optional('startPeriodMs', durationFlag(values, 'health-start-period')),
    ...optional('startIntervalMs', durationFlag(values, 'health-start-interval')),
    ...optional('retries', retries),
  };
  if (boolFlag(values, 'no-healthcheck')) {
    if (Object.keys(flags).length > 0) throw new UsageError('--no-healthcheck conflicts with --health-* options');
    return healthConfigOf(image, { none: true });
  }
  return healthConfigOf(image, flags);
}

export interface HealthTarget {
  readonly pid: number;
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
  /** The image's SHELL, for CMD-SHELL checks. */
  readonly shell: readonly string[] | undefined;
  /** Where the probe writes its short-lived spec files. */
  readonly scratchDir: string;
}

/** Starts probing a running container; every new state goes to `record` (the caller persists it). */
export function startHealthMonitor(
  config: HealthConfig,
  target: HealthTarget,
  startedAt: Date,
  record: (state: HealthState) => Promise<void>,
  stillRunning: () => boolean,
): HealthMonitor {
  const args = healthCommand(config, target.shell);
  return monitorHealth(
    config,
    startedAt,
    () => probeContainer({ pid: target.pid, args, env: target.env, cwd: target.cwd, user: target.user }, config.timeoutMs, target.scratchDir),
    record,
    (error) => {
      // A probe racing the container's exit fails to find it; that is the end, not a problem.
      if (!stillRunning() || error instanceof ContainerGoneError) return;
      const message = error instanceof KilnError || error instanceof Error ? error.message : String(error);
      process.stderr.write(`kiln: health check failed to run: ${message}\n`);
    },
  );
}
