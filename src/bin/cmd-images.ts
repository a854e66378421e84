// kiln images / tag / rmi / inspect: the local image store.
import { UsageError, KilnError } from '../errors.js';
import { readImage } from '../exporter/index.js';
import { defaultKilnRoot, openKilnRoot } from '../engine/kiln-root.js';
import { parseFlags } from './flags.js';

function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 && unit > 0 ? 2 : 0)}${units[unit]}`;
}

export async function imagesCommand(args: readonly string[]): Promise<number> {
  const { positionals } = parseFlags('images', args, {});
  if (positionals.length > 0) throw new UsageError('kiln images takes no arguments');
  const root = await openKilnRoot(defaultKilnRoot());
  const rows = [['REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE']];
  for (const { name, manifest } of await root.images.list()) {
    const image = await readImage(root.content, manifest);
    const size = image.layers.reduce((sum, layer) => sum + layer.blob.size, 0);
    const colon = name.lastIndexOf(':');
    const [repository, tag] = colon === -1 ? [name, '<none>'] : [name.slice(0, colon), name.slice(colon + 1)];
    rows.push([repository, tag, manifest.digest.slice(7, 19), humanSize(size)]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column]! + 3)).join('').trimEnd()}\n`);
  return 0;
}

export async function tagCommand(args: readonly string[]): Promise<number> {
  const { positionals } = parseFlags('tag', args, {});
  if (positionals.length !== 2) throw new UsageError('usage: kiln tag SOURCE TARGET');
  const root = await openKilnRoot(defaultKilnRoot());
  const manifest = await root.images.resolve(positionals[0]!);
  if (!manifest) throw new KilnError(`No such image: ${positionals[0]}`);
  await root.images.tag(positionals[1]!, manifest);
  return 0;
}

export async function rmiCommand(args: readonly string[]): Promise<number> {
  const { positionals } = parseFlags('rmi', args, {});
  if (positionals.length === 0) throw new UsageError('usage: kiln rmi IMAGE [IMAGE...]');
  const root = await openKilnRoot(defaultKilnRoot());
  let failed = false;
  for (const name of positionals) {
    if (await root.images.remove(name)) process.stdout.write(`Untagged: ${name}\n`);
    else {
      process.stderr.write(`kiln: error: No such image: ${name}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

export async function inspectCommand(args: readonly string[]): Promise<number> {
  const { positionals } = parseFlags('inspect', args, {});
  if (positionals.length === 0) throw new UsageError('usage: kiln inspect IMAGE [IMAGE...]');
  const root = await openKilnRoot(defaultKilnRoot());
  const out = [];
  for (const name of positionals) {
    const manifest = await root.images.resolve(name);
    if (!manifest) throw new KilnError(`No such image: ${name}`);
    const image = await readImage(root.content, manifest);
    out.push({ Name: name, Id: manifest.digest, Manifest: image.manifest, Config: image.config });
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return 0;
}
