// kiln save / load / import: images to and from tar files and root filesystems.
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { KilnError, UsageError } from '../errors.js';
import { tempPathBeside } from '../disk/atomic-write.js';
import { importRootfs, loadArchive, writeDockerArchive, writeImage, writeOciArchive } from '../exporter/index.js';
import { defaultKilnRoot, openKilnRoot } from '../engine/kiln-root.js';
import { hostPlatform } from '../engine/platform.js';
import { parseFlags, stringFlag } from './flags.js';
import { PassThrough } from 'node:stream';

export async function saveCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseFlags('save', args, { output: { type: 'string', short: 'o' }, format: { type: 'string' } });
  const output = stringFlag(values, 'output');
  if (output === undefined) throw new UsageError('kiln save: -o FILE is required (kiln does not write archives to a terminal)');
  if (positionals.length === 0) throw new UsageError('usage: kiln save -o FILE.tar IMAGE [IMAGE...]');
  const format = stringFlag(values, 'format') ?? 'oci';
  if (format !== 'oci' && format !== 'docker') throw new UsageError(`kiln save: invalid --format "${format}": use oci or docker`);
  const root = await openKilnRoot(defaultKilnRoot());
  const images = [];
  for (const name of positionals) {
    const manifest = await root.images.resolve(name);
    if (!manifest) throw new KilnError(`No such image: ${name}`);
    images.push({ name, manifest });
  }
  const target = resolve(output);
  const temp = tempPathBeside(target);
  try {
    const out = createWriteStream(temp, { flags: 'wx' });
    const done = new Promise<void>((resolveDone, reject) => {
      out.on('close', resolveDone);
      out.on('error', reject);
    });
    if (format === 'oci') await writeOciArchive(root.content, images, out);
    else await writeDockerArchive(root.content, images, out);
    await done;
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
  return 0;
}

export async function loadCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseFlags('load', args, { input: { type: 'string', short: 'i' } });
  if (positionals.length > 0) throw new UsageError('usage: kiln load -i FILE.tar');
  const input = stringFlag(values, 'input');
  const root = await openKilnRoot(defaultKilnRoot());
  const source = input === undefined ? process.stdin.pipe(new PassThrough()) : createReadStream(input);
  const loaded = await loadArchive(source, root.content);
  for (const image of loaded) {
    if (image.name) {
      await root.images.tag(image.name, image.manifest);
      process.stdout.write(`Loaded image: ${image.name}\n`);
    } else process.stdout.write(`Loaded image ID: ${image.manifest.digest}\n`);
  }
  return 0;
}

export async function importCommand(args: readonly string[]): Promise<number> {
  const { positionals } = parseFlags('import', args, {});
  if (positionals.length !== 2) throw new UsageError('usage: kiln import ROOTFS(.tar|.tar.gz|DIR) NAME');
  const [source, name] = positionals as [string, string];
  const root = await openKilnRoot(defaultKilnRoot());
  const layer = await importRootfs(resolve(source), root.content);
  const image = await writeImage(root.content, {
    layers: [layer],
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    history: [{ created_by: `kiln import ${basename(source)}`, comment: 'Imported from a root filesystem' }],
    platform: hostPlatform(),
  });
  await root.images.tag(name, image.manifest);
  process.stdout.write(`${image.manifest.digest}\n`);
  return 0;
}

