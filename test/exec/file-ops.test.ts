// COPY / mkdir through FileOpRunner.runFileOps: applied in a private mount namespace, the result left in the upper dir.
import { chown, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileOpError } from '../../src/exec/index.js';
import type { FileAction } from '../../src/llb/types.js';
import { mountsMentioning } from '../helpers/kiln.js';
import { makeExecFixture } from './exec-fixture.js';
import type { ExecFixture } from './exec-fixture.js';

let fx: ExecFixture;
let context: string;

beforeAll(async () => {
  fx = await makeExecFixture();
  context = join(fx.tmp, 'context');
  await mkdir(join(context, 'src'), { recursive: true });
  await writeFile(join(context, 'src', 'app.txt'), 'app\n');
  await chown(join(context, 'src', 'app.txt'), 1234, 1234);
});

afterAll(async () => {
  await fx.dispose();
});

function copy(src: string, dest: string): FileAction {
  return { kind: 'copy', source: 1, src: [src], dest, exclude: [], parents: false, link: false, unpackArchives: false };
}

describe('FileOpRunner.runFileOps', () => {
  it('copies from the build context into the upper dir, owned by root', async () => {
    const layer = await fx.layer();
    await fx.executor.runFileOps(
      {
        rootfs: { kind: 'overlay', lowerDirs: [fx.rootfs], ...layer },
        sources: [undefined, { kind: 'dir', dir: context, exclude: [] }],
        actions: [copy('src/app.txt', '/opt/app/'), { kind: 'mkdir', path: '/data', mode: 0o750, makeParents: true }],
      },
      new AbortController().signal,
    );
    expect(await readFile(join(layer.upperDir, 'opt', 'app', 'app.txt'), 'utf8')).toBe('app\n');
    expect((await stat(join(layer.upperDir, 'opt', 'app', 'app.txt'))).uid).toBe(0);
    expect((await stat(join(layer.upperDir, 'data'))).mode & 0o777).toBe(0o750);
    expect((await readdir(layer.upperDir)).sort()).toEqual(['data', 'opt']);
    expect(await mountsMentioning(fx.stateDir)).toEqual([]);
  });

  it('copies from an overlay source of layers, keeping owners', async () => {
    const layerA = join(fx.tmp, 'snap-a');
    const layerB = join(fx.tmp, 'snap-b');
    await mkdir(join(layerA, 'out'), { recursive: true });
    await mkdir(join(layerB, 'out'), { recursive: true });
    await writeFile(join(layerA, 'out', 'top'), 'top\n');
    await writeFile(join(layerB, 'out', 'bottom'), 'bottom\n');
    await chown(join(layerB, 'out', 'bottom'), 1000, 1000);
    const layer = await fx.layer();
    await fx.executor.runFileOps(
      {
        rootfs: { kind: 'overlay', lowerDirs: [fx.rootfs], ...layer },
        sources: [undefined, { kind: 'overlay', lowerDirs: [layerA, layerB], exclude: [] }],
        actions: [copy('/out', '/res')],
      },
      new AbortController().signal,
    );
    expect((await readdir(join(layer.upperDir, 'res'))).sort()).toEqual(['bottom', 'top']);
    expect((await stat(join(layer.upperDir, 'res', 'bottom'))).uid).toBe(1000);
  });

  it('rethrows a missing COPY source as a FileOpError with its message', async () => {
    const layer = await fx.layer();
    const err = await fx.executor
      .runFileOps(
        {
          rootfs: { kind: 'overlay', lowerDirs: [fx.rootfs], ...layer },
          sources: [undefined, { kind: 'dir', dir: context, exclude: [] }],
          actions: [copy('nope.txt', '/x')],
        },
        new AbortController().signal,
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileOpError);
    expect((err as FileOpError).message).toMatch(/nope\.txt/);
    expect((err as FileOpError).innerName).toBe('CopySourceNotFoundError');
  });

  it('never writes into the build context', async () => {
    const layer = await fx.layer();
    await fx.executor.runFileOps(
      {
        rootfs: { kind: 'overlay', lowerDirs: [fx.rootfs], ...layer },
        sources: [undefined, { kind: 'dir', dir: context, exclude: [] }],
        actions: [copy('src', '/src')],
      },
      new AbortController().signal,
    );
    expect(await readdir(context)).toEqual(['src']);
    expect(await readdir(join(context, 'src'))).toEqual(['app.txt']);
  });
});
