// kiln ps: the running containers, as docker ps shows them (kiln keeps no stopped ones, so -a changes nothing).
import { UsageError } from '../errors.js';
import { listContainers } from '../engine/container-records.js';
import type { ContainerRecord } from '../engine/container-records.js';
import { defaultKilnRoot } from '../engine/kiln-root.js';
import { boolFlag, parseFlags } from './flags.js';
import { humanDuration } from './human-duration.js';

const PS_FLAGS = {
  all: { type: 'boolean', short: 'a' },
  quiet: { type: 'boolean', short: 'q' },
  'no-trunc': { type: 'boolean' },
} as const;

/** docker ps's STATUS: "Up 5 seconds (healthy)", "Up 2 seconds (health: starting)". */
export function statusOf(record: ContainerRecord, now: Date): string {
  if (record.started === undefined) return 'Created';
  const up = `Up ${humanDuration(now.getTime() - Date.parse(record.started))}`;
  const health = record.health?.status;
  if (health === undefined) return up;
  return health === 'starting' ? `${up} (health: starting)` : `${up} (${health})`;
}

/** docker ps's COMMAND: the argv joined, quoted, cut to 20 characters with an ellipsis. */
function commandOf(record: ContainerRecord, truncate: boolean): string {
  const text = record.command.join(' ');
  return JSON.stringify(truncate && [...text].length > 20 ? `${[...text].slice(0, 19).join('')}…` : text);
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => [...row[col]!].length)));
  return rows.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

export async function psCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseFlags('ps', args, PS_FLAGS);
  if (positionals.length > 0) throw new UsageError(`kiln ps: unexpected argument "${positionals[0]}" (usage: kiln ps [-a] [-q] [--no-trunc])`);
  const truncate = !boolFlag(values, 'no-trunc');
  const containers = (await listContainers(defaultKilnRoot())).reverse();
  const idOf = (record: ContainerRecord): string => (truncate ? record.id.slice(0, 12) : record.id);
  if (boolFlag(values, 'quiet')) {
    for (const record of containers) process.stdout.write(`${idOf(record)}\n`);
    return 0;
  }
  const now = new Date();
  const rows = [
    ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'NAMES'],
    ...containers.map((record) => [
      idOf(record),
      record.image,
      commandOf(record, truncate),
      `${humanDuration(now.getTime() - Date.parse(record.created))} ago`,
      statusOf(record, now),
      record.name ?? '',
    ]),
  ];
  process.stdout.write(table(rows));
  return 0;
}
