// kiln prune / kiln du: build cache and storage housekeeping, shaped like `docker buildx prune` / `du`.
import { createInterface } from 'node:readline';
import { UsageError } from '../errors.js';
import { measureDiskUsage, type UsageCategory } from '../engine/disk-usage.js';
import { defaultKilnRoot, openKilnRoot } from '../engine/kiln-root.js';
import { pruneKilnRoot, type PruneOptions } from '../engine/prune.js';
import { formatBytes, parseByteSize } from './byte-size.js';
import { parseDuration } from './duration.js';
import { boolFlag, listFlag, parseFlags, stringFlag } from './flags.js';

const PRUNE_FLAGS = {
  all: { type: 'boolean', short: 'a' },
  'keep-storage': { type: 'string' },
  filter: { type: 'string', multiple: true },
  force: { type: 'boolean', short: 'f' },
  verbose: { type: 'boolean' },
} as const;

const CATEGORY_NAMES: Readonly<Record<UsageCategory, string>> = {
  'blobs-image': 'Blobs (tagged images)',
  'blobs-cache': 'Blobs (cache only)',
  'blobs-unreferenced': 'Blobs (unreferenced)',
  'snapshots-image': 'Snapshots (tagged images)',
  'snapshots-cache': 'Snapshots (cache only)',
  'snapshots-unreferenced': 'Snapshots (unreferenced)',
  'cache-records': 'Cache records',
  'cache-mounts': 'Cache mounts',
};

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => `${row.map((cell, column) => cell.padEnd(widths[column]! + 3)).join('').trimEnd()}\n`).join('');
}

/** Reads --filter values; only until=DURATION exists for now, as the one buildx filter that means something here. */
function olderThanOf(filters: readonly string[]): number | undefined {
  let olderThanMs: number | undefined;
  for (const filter of filters) {
    const eq = filter.indexOf('=');
    const key = eq === -1 ? filter : filter.slice(0, eq);
    if (key !== 'until' || eq === -1) throw new UsageError(`kiln prune: invalid --filter "${filter}": only until=DURATION (e.g. until=24h) is supported`);
    olderThanMs = parseDuration(filter.slice(eq + 1), '--filter until');
  }
  return olderThanMs;
}

async function confirmed(all: boolean): Promise<boolean> {
  process.stderr.write(`WARNING! This will remove ${all ? 'all build cache' : 'build cache not used by tagged images'}. Are you sure you want to continue? [y/N] `);
  const lines = createInterface({ input: process.stdin });
  try {
    for await (const line of lines) return /^y(es)?$/i.test(line.trim());
    return false;
  } finally {
    lines.close();
    // A terminal echoes the user's Enter; piped input does not, so end the prompt's line ourselves.
    if (!process.stdin.isTTY) process.stderr.write('\n');
  }
}

export async function pruneCommand(args: readonly string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseFlags('prune', args, PRUNE_FLAGS);
  if (positionals.length > 0) throw new UsageError('kiln prune takes no arguments (usage: kiln prune [--all] [--keep-storage SIZE] [--filter until=DURATION] [-f])');
  const keepText = stringFlag(values, 'keep-storage');
  const olderThanMs = olderThanOf(listFlag(values, 'filter'));
  const opts: PruneOptions = {
    all: boolFlag(values, 'all'),
    ...(keepText === undefined ? {} : { keepStorage: parseByteSize(keepText, '--keep-storage') }),
    ...(olderThanMs === undefined ? {} : { olderThanMs }),
  };
  if (!boolFlag(values, 'force') && !(await confirmed(opts.all === true))) return 0;
  signal.throwIfAborted();
  const root = await openKilnRoot(defaultKilnRoot());
  const report = await pruneKilnRoot(root, opts);
  if (boolFlag(values, 'verbose')) {
    for (const record of report.removedRecords) process.stdout.write(`Deleted: ${record.key.slice(7, 19)}  ${record.createdAt}  ${record.name}\n`);
  }
  process.stdout.write(
    `Deleted ${report.removedRecords.length} cache records, ${report.removedBlobs} blobs, ${report.removedSnapshots} snapshots, ${report.removedMounts} cache mounts\n`,
  );
  if (report.runningBuilds.length > 0) {
    const pids = report.runningBuilds.map((lease) => lease.pid).join(', ');
    process.stdout.write(`Kept all blobs, snapshots and cache mounts: a build is running (pid ${pids}); run kiln prune again when it is done to reclaim them\n`);
  }
  process.stdout.write(`Total: ${formatBytes(report.reclaimedBytes)}\n`);
  return 0;
}

export async function duCommand(args: readonly string[], signal: AbortSignal): Promise<number> {
  const { positionals } = parseFlags('du', args, {});
  if (positionals.length > 0) throw new UsageError('kiln du takes no arguments');
  signal.throwIfAborted();
  const root = await openKilnRoot(defaultKilnRoot());
  const usage = await measureDiskUsage(root);
  const rows = [['TYPE', 'COUNT', 'SIZE', 'RECLAIMABLE']];
  for (const line of usage.lines) rows.push([CATEGORY_NAMES[line.category], String(line.count), formatBytes(line.bytes), formatBytes(line.reclaimable)]);
  process.stdout.write(table(rows));
  process.stdout.write(`Reclaimable:\t${formatBytes(usage.reclaimableBytes)}\nTotal:\t\t${formatBytes(usage.totalBytes)}\n`);
  return 0;
}
