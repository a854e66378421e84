// Multi-stage builds through the CLI: stages as bases and COPY sources, --target, stages the target never reaches
// (never run, their bases never resolved), and named build contexts (local dir, docker-image://, oci-layout://).
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runKiln, useKilnRoot } from '../helpers/kiln.js';

const kiln = useKilnRoot();

function contextWith(files: Record<string, string>): Promise<string> {
  return kiln.context(files);
}

async function build(dir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runKiln(['build', '--progress=plain', ...args, dir], { root: kiln.root });
}

async function shellIn(image: string, script: string): Promise<string> {
  const ran = await runKiln(['run', '--rm', '--entrypoint', '/bin/sh', image, '-c', script], { root: kiln.root });
  expect(ran.code, ran.stderr).toBe(0);
  return ran.stdout;
}

// Stage 0 builds an artifact, stage 1 extends it; stages 2 and 3 are reached by nothing: one has a base image that
// does not exist and COPY/mount sources that do not exist, the other a RUN that must never run.
const MULTI = [
  'FROM busybox AS builder',
  'RUN echo built > /artifact',
  'FROM builder AS derived',
  'RUN echo derived >> /artifact',
  'FROM doesnotexist:1.0 AS broken',
  'COPY --from=nosuchimage /x /y',
  'RUN --mount=from=alsonosuch,target=/m echo BROKEN-RAN-$((6*7))',
  'FROM busybox AS unused',
  'RUN echo UNUSED-RAN-$((6*7)) > /unused',
  'FROM busybox AS final',
  'COPY --from=builder /artifact /from-name',
  'COPY --from=1 /artifact /from-index',
  'COPY --from=busybox /bin/busybox /from-image',
  'RUN echo FINAL-RAN-$((6*7))',
  '',
].join('\n');

describe('multi-stage builds', () => {
  it('FROM a stage, COPY --from a stage name, an index and an image; unreached stages never run nor resolve their bases', async () => {
    const dir = await contextWith({ Dockerfile: MULTI });
    const built = await build(dir, '-t', 'multi');
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toContain('FINAL-RAN-42');
    expect(built.stderr).not.toContain('BROKEN-RAN-42');
    expect(built.stderr).not.toContain('UNUSED-RAN-42');
    expect(built.stderr).not.toContain('doesnotexist');
    expect(built.stderr).not.toContain('nosuchimage');
    expect(built.stderr).toMatch(/^#\d+ \[derived \d\/\d\] RUN echo derived >> \/artifact/m);
    expect(await shellIn('multi', 'cat /from-name; echo --; cat /from-index; cmp /from-image /bin/busybox && echo same-busybox; ls /unused 2>&1 || true')).toBe(
      'built\n--\nbuilt\nderived\nsame-busybox\nls: /unused: No such file or directory\n',
    );
  });

  it('--target builds only up to the target stage, skipping later stages even with missing bases', async () => {
    const dir = await contextWith({ Dockerfile: MULTI });
    const built = await build(dir, '-t', 'derived-only', '--target', 'derived');
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).not.toContain('FINAL-RAN-42');
    expect(built.stderr).not.toContain('UNUSED-RAN-42');
    expect(built.stderr).not.toMatch(/\[final /);
    expect(await shellIn('derived-only', 'cat /artifact; ls /from-name 2>&1 || true')).toBe('built\nderived\nls: /from-name: No such file or directory\n');

    const earlier = await contextWith({ Dockerfile: 'FROM busybox AS first\nRUN echo first > /first\nFROM doesnotexist AS second\nRUN echo SECOND-RAN-$((6*7))\n' });
    const first = await build(earlier, '-t', 'first-only', '--target', 'first');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain('SECOND-RAN-42');
    expect(await shellIn('first-only', 'cat /first')).toBe('first\n');
    // Without --target the last stage is built, and then its missing base is an error on its line.
    const last = await build(earlier);
    expect(last.code).toBe(1);
    expect(last.stderr).toContain('Dockerfile:3:1: failed to resolve image "doesnotexist"');
  });
});

describe('named build contexts', () => {
  it('--build-context NAME=DIR, NAME=docker-image://REF and NAME=oci-layout://DIR serve COPY --from, RUN --mount and FROM', async () => {
    // An image to export as an OCI layout: kiln save, then unpack the archive into a directory.
    const saved = await contextWith({ Dockerfile: 'FROM busybox\nRUN echo from-layout > /layout-file\n' });
    expect((await build(saved, '-t', 'exported:v1')).code).toBe(0);
    const work = await mkdtemp(join(tmpdir(), 'kiln-e2e-layout-'));
    kiln.track(work);
    const archive = join(work, 'exported.tar');
    const save = await runKiln(['save', '-o', archive, 'exported:v1'], { root: kiln.root });
    expect(save.code, save.stderr).toBe(0);
    const layout = join(work, 'layout');
    await mkdir(layout);
    execFileSync('tar', ['-xf', archive, '-C', layout]);

    const local = await contextWith({ 'notes/n.txt': 'from a local named context\n' });
    const dir = await contextWith({
      Dockerfile: [
        'FROM busybox AS builder',
        'RUN echo REPLACED-STAGE-RAN-$((6*7))',
        'FROM builder',
        'COPY --from=notes n.txt /from-dir',
        'COPY --from=img /bin/busybox /from-image',
        'COPY --from=layout /layout-file /from-layout',
        'RUN --mount=from=notes,target=/mnt cat /mnt/n.txt > /from-mount',
        '',
      ].join('\n'),
    });
    const built = await build(
      dir,
      '-t', 'contexts',
      '--build-context', `notes=${join(local, 'notes')}`,
      '--build-context', 'img=docker-image://busybox',
      '--build-context', `layout=oci-layout://${layout}`,
      // A named context with a stage's name replaces that stage, like BuildKit: its RUN never runs.
      '--build-context', `builder=oci-layout://${layout}:v1`,
    );
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).not.toContain('REPLACED-STAGE-RAN-42');
    expect(await shellIn('contexts', 'cat /from-dir /from-layout /from-mount /layout-file; cmp /from-image /bin/busybox && echo same-busybox')).toBe(
      'from a local named context\nfrom-layout\nfrom a local named context\nfrom-layout\nsame-busybox\n',
    );
  });

  it('a docker-image:// context replaces the image a FROM names', async () => {
    const dir = await contextWith({ Dockerfile: 'FROM alpine:3.19\nRUN echo "$(busybox | head -1 | cut -d" " -f1) stands in for alpine" > /who\n' });
    const built = await build(dir, '-t', 'not-alpine', '--build-context', 'alpine:3.19=docker-image://busybox');
    expect(built.code, built.stderr).toBe(0);
    expect(await shellIn('not-alpine', 'cat /who')).toBe('BusyBox stands in for alpine\n');
  });

  it('an unsupported context scheme is a usage error', async () => {
    const dir = await contextWith({ Dockerfile: 'FROM busybox\nCOPY --from=src a /a\n' });
    const result = await build(dir, '--build-context', 'src=git://example.com/repo.git');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--build-context src=git://example.com/repo.git');
  });
});
