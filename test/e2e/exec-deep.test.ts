// A 151-layer image (busybox + 150 tiny layers, made with the exporter API and `kiln load`ed) mounts, and RUN sees it all.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileContentStore } from '../../src/content/index.js';
import { hostPlatform } from '../../src/engine/platform.js';
import { importRootfs, packTar, storeLayer, writeImage, writeOciArchive } from '../../src/exporter/index.js';
import type { ImageLayer, TarWriteEntry } from '../../src/exporter/index.js';
import { makeBusyboxRootfs, makeContext, makeKilnRoot, runKiln } from '../helpers/kiln.js';

const LAYERS = 150;
/** A layer above this one deletes /deep/f<WHITED_OUT> with an OCI whiteout. */
const WHITED_OUT = 50;
const WHITEOUT_LAYER = 100;

let root: string;
const cleanup: string[] = [];

function file(name: string, text: string): TarWriteEntry {
  const body = Buffer.from(text);
  return { header: { name, type: 'file', mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: 0 }, body: () => [body] };
}

/** Layer i adds /deep/f<i> and rewrites /deep/top, so the topmost layer decides what /deep/top holds. */
function layerEntries(i: number): TarWriteEntry[] {
  const entries: TarWriteEntry[] = [
    { header: { name: 'deep', type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 } },
    file(`deep/f${i}`, `${i}\n`),
    file('deep/top', `${i}\n`),
  ];
  if (i === WHITEOUT_LAYER) entries.push(file(`deep/.wh.f${WHITED_OUT}`, ''));
  return entries;
}

beforeAll(async () => {
  root = await makeKilnRoot();
  cleanup.push(root);
  const work = await mkdtemp(join(tmpdir(), 'kiln-e2e-deep-'));
  cleanup.push(work);
  const content = new FileContentStore(join(work, 'content'));
  await content.init();
  const rootfs = await makeBusyboxRootfs();
  cleanup.push(rootfs);
  const layers: ImageLayer[] = [await importRootfs(rootfs, content)];
  for (let i = 1; i <= LAYERS; i++) layers.push(await storeLayer(packTar(layerEntries(i)), content, { parallel: false, compressionLevel: 1 }));
  const { manifest } = await writeImage(content, {
    layers,
    config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    history: [],
    platform: hostPlatform(),
    created: '2024-01-01T00:00:00Z',
  });
  const archive = join(work, 'deep.tar');
  await writeOciArchive(content, [{ name: 'deep:latest', manifest }], createWriteStream(archive));
  const loaded = await runKiln(['load', '-i', archive], { root });
  expect(loaded.code, loaded.stderr).toBe(0);
});

afterAll(async () => {
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

// Every layer's file but the whited-out one, the top layer's /deep/top, and the sum 1..150 minus 50.
const CHECK = 'echo "count=$(ls /deep | grep -c "^f")"; echo "top=$(cat /deep/top)"; echo "sum=$(cat /deep/f* | awk "{s+=\\$1} END {print s}")"; test -e /deep/f50 && echo f50-present || echo f50-gone';
const EXPECTED = { count: LAYERS - 1, sum: (LAYERS * (LAYERS + 1)) / 2 - WHITED_OUT };

describe('an image with 151 layers', () => {
  it('has all of its layers in the store', async () => {
    const inspected = JSON.parse((await runKiln(['inspect', 'deep'], { root })).stdout) as Array<{ Config: { rootfs: { diff_ids: string[] } } }>;
    expect(inspected[0]!.Config.rootfs.diff_ids).toHaveLength(LAYERS + 1);
  });

  it('kiln run mounts it, in layer order, with the whiteout applied', async () => {
    const ran = await runKiln(['run', '--rm', 'deep', 'sh', '-c', CHECK], { root });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toBe(`count=${EXPECTED.count}\ntop=${LAYERS}\nsum=${EXPECTED.sum}\nf50-gone\n`);
  });

  it('a RUN on top of it sees every file, and its own layer comes out as the 152nd', async () => {
    const context = await makeContext({ Dockerfile: `FROM deep\nRUN ${CHECK} && echo mine > /deep/f151\n` });
    cleanup.push(context);
    const built = await runKiln(['build', '--progress=plain', '-t', 'deeper', context], { root });
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toMatch(new RegExp(`^#\\d+ [\\d.]+ count=${EXPECTED.count}$`, 'm'));
    expect(built.stderr).toMatch(new RegExp(`^#\\d+ [\\d.]+ top=${LAYERS}$`, 'm'));
    expect(built.stderr).toMatch(new RegExp(`^#\\d+ [\\d.]+ sum=${EXPECTED.sum}$`, 'm'));
    expect(built.stderr).toMatch(/^#\d+ [\d.]+ f50-gone$/m);
    const ran = await runKiln(['run', '--rm', 'deeper', 'sh', '-c', 'cat /deep/f151 /deep/f150'], { root });
    expect(ran.stdout).toBe('mine\n150\n');
    const inspected = JSON.parse((await runKiln(['inspect', 'deeper'], { root })).stdout) as Array<{ Config: { rootfs: { diff_ids: string[] } } }>;
    expect(inspected[0]!.Config.rootfs.diff_ids).toHaveLength(LAYERS + 2);
  });
});
