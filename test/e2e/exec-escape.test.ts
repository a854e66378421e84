// Image symlinks never lead a write onto the host: COPY destinations, WORKDIR, RUN --mount targets and kiln run -v/-w.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBusybox, makeContext, makeKilnRoot, runKiln } from '../helpers/kiln.js';

let root: string;
const cleanup: string[] = [];
/** A unique prefix for everything the escape attempts write, so a stray file is easy to find. */
const NAME = `kiln-escape-${randomBytes(4).toString('hex')}`;
/** An empty host directory the image has an absolute symlink to. */
let hostDir: string;
let built: { code: number; stderr: string };

beforeAll(async () => {
  root = await makeKilnRoot();
  cleanup.push(root);
  await importBusybox(root);
  hostDir = await mkdtemp(join(tmpdir(), 'kiln-e2e-hostdir-'));
  cleanup.push(hostDir);
  const context = await makeContext({
    'Dockerfile': [
      'FROM busybox',
      `RUN ln -s / /to-root && ln -s .. /to-up && ln -s ../../../../../../../../.. /to-deep && ln -s ${hostDir} /to-abs && ln -s ${dirname(hostDir)} /to-tmp`,
      `COPY payload.txt /to-root/${NAME}-copy-root.txt`,
      `COPY payload.txt /to-up/${NAME}-copy-up.txt`,
      `COPY payload.txt /to-deep/${NAME}-copy-deep.txt`,
      'COPY payload.txt /to-abs/copy-abs.txt',
      `COPY dir/ /to-tmp/${NAME}-copy-dir/`,
      `WORKDIR /to-root/${NAME}-wd`,
      'WORKDIR /to-abs/wd-abs',
      `RUN --mount=type=tmpfs,target=/to-root/${NAME}-m1 --mount=type=bind,source=payload.txt,target=/to-abs/m2 --mount=type=bind,source=dir,target=/to-up/${NAME}-m3 ` +
        `echo in-m1 > /${NAME}-m1/f && echo "m2=$(cat ${hostDir}/m2)" && echo "m3=$(cat /${NAME}-m3/inner.txt)" && echo "pwd=$(pwd)"`,
    ].join('\n'),
    'payload.txt': 'payload\n',
    'dir/inner.txt': 'inner\n',
  });
  cleanup.push(context);
  const result = await runKiln(['build', '--progress=plain', '-t', 'escape', context], { root });
  built = { code: result.code, stderr: result.stderr };
});

afterAll(async () => {
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
  // Should a test have failed because something escaped, do not leave it on the host.
  for (const dir of ['/', tmpdir()]) {
    for (const entry of await readdir(dir)) if (entry.startsWith(NAME)) await rm(join(dir, entry), { recursive: true, force: true });
  }
});

/** Host paths outside KILN_ROOT that carry the test's unique name: each one would be an escape. */
async function escapedOntoHost(): Promise<string[]> {
  const found: string[] = [];
  for (const dir of ['/', tmpdir(), dirname(root), hostDir]) {
    for (const entry of await readdir(dir)) if (entry.startsWith(NAME) || dir === hostDir) found.push(join(dir, entry));
  }
  return found;
}

async function inImage(script: string): Promise<string> {
  const ran = await runKiln(['run', '--rm', 'escape', 'sh', '-c', script], { root });
  expect(ran.code, ran.stderr).toBe(0);
  return ran.stdout;
}

describe('symlinks in the image stay inside the rootfs', () => {
  it('the build succeeds and writes nothing onto the host', async () => {
    expect(built.code, built.stderr).toBe(0);
    expect(await escapedOntoHost()).toEqual([]);
  });

  it('COPY through a link to /, .., a deep ../.. chain and an absolute host path lands inside the image', async () => {
    const listing = await inImage(`ls / | grep ${NAME}-copy; cat ${hostDir}/copy-abs.txt; ls ${dirname(hostDir)}/${NAME}-copy-dir`);
    expect(listing).toBe(`${NAME}-copy-deep.txt\n${NAME}-copy-root.txt\n${NAME}-copy-up.txt\npayload\ninner.txt\n`);
  });

  it('WORKDIR through such links creates the directories inside the image', async () => {
    // Without $PWD, sh reports the physical cwd: the link resolved inside the container.
    expect(await inImage(`test -d /${NAME}-wd && test -d ${hostDir}/wd-abs && pwd`)).toBe(`${hostDir}/wd-abs\n`);
    expect(built.stderr).toContain(`pwd=${hostDir}/wd-abs\n`);
  });

  it('RUN --mount targets behind such links are mounted inside the rootfs and leave nothing in the image', async () => {
    expect(built.stderr).toMatch(/^#\d+ [\d.]+ m2=payload$/m);
    expect(built.stderr).toMatch(/^#\d+ [\d.]+ m3=inner$/m);
    const left = await inImage(`ls -a / ${hostDir} | grep -c -e ${NAME}-m -e m2 || true`);
    expect(left).toBe('0\n');
  });

  it('kiln run -v and -w targets behind such links stay inside the container', async () => {
    const source = await mkdtemp(join(tmpdir(), 'kiln-e2e-vsrc-'));
    cleanup.push(source);
    await writeFile(join(source, 'v.txt'), 'volume\n');
    const ran = await runKiln(
      ['run', '--rm', '-v', `${source}:/to-root/${NAME}-v`, '-v', `${source}:/to-abs/v-abs:ro`, '-w', `/to-up/${NAME}-w`, 'escape', 'sh', '-c', `cat /${NAME}-v/v.txt ${hostDir}/v-abs/v.txt; test -d /${NAME}-w && echo wd-inside`],
      { root },
    );
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toBe('volume\nvolume\nwd-inside\n');
    expect(await escapedOntoHost()).toEqual([]);
    expect(await readdir(source)).toEqual(['v.txt']);
    expect(existsSync(`/${NAME}-w`)).toBe(false);
  });
});
