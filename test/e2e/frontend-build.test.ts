// Dockerfile features through real builds: heredocs, directives, ARG scoping, every config instruction, ONBUILD,
// ADD/COPY options and the build checks, each proven by running or inspecting the image kiln made.
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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

/** `kiln run --rm IMAGE sh -c SCRIPT`'s stdout (the run must succeed). */
async function shellIn(image: string, script: string): Promise<string> {
  const ran = await runKiln(['run', '--rm', '--entrypoint', '/bin/sh', image, '-c', script], { root: kiln.root });
  expect(ran.code, ran.stderr).toBe(0);
  return ran.stdout;
}

interface Inspected {
  readonly Config: { readonly author?: string; readonly config: Record<string, unknown>; readonly history: ReadonlyArray<{ created_by: string; empty_layer?: boolean }> };
}

async function inspect(image: string): Promise<Inspected> {
  const result = await runKiln(['inspect', image], { root: kiln.root });
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as Inspected[])[0]!;
}

async function storeState(): Promise<string> {
  const list = async (dir: string): Promise<string[]> => (await readdir(join(kiln.root, dir)).catch(() => [] as string[])).sort();
  return JSON.stringify({ index: await readFile(join(kiln.root, 'images', 'index.json'), 'utf8'), blobs: await list('content/blobs/sha256'), snapshots: await list('snapshots/committed') });
}

describe('heredocs', () => {
  it('RUN and COPY heredocs: scripts, shebangs, expansion and quoted terminators, <<- tab stripping, two on a line', async () => {
    const dir = await contextWith({
      Dockerfile: [
        'FROM busybox',
        'ARG NAME=world',
        'RUN <<EOF',
        'echo "hello $NAME" > /h1',
        'echo "second line" >> /h1',
        'EOF',
        'RUN <<EOF',
        '#!/bin/awk -f',
        'BEGIN { print "awk ran the script" > "/h2" }',
        'EOF',
        'COPY <<EOF /c1',
        'expanded $NAME',
        'EOF',
        'COPY <<"EOF" /c2',
        'literal $NAME',
        'EOF',
        'RUN <<-EOF',
        '\techo tabs stripped > /h3',
        '\tEOF',
        'RUN cat <<A > /h4 && cat <<B >> /h4',
        'first body',
        'A',
        'second body',
        'B',
        'COPY <<one.txt <<two.txt /multi/',
        'one',
        'one.txt',
        'two',
        'two.txt',
        '',
      ].join('\n'),
    });
    const built = await build(dir, '-t', 'heredocs');
    expect(built.code, built.stderr).toBe(0);
    expect(await shellIn('heredocs', 'for f in /h1 /h2 /c1 /c2 /h3 /h4 /multi/one.txt /multi/two.txt; do echo "== $f"; cat $f; done')).toBe(
      [
        '== /h1', 'hello world', 'second line',
        '== /h2', 'awk ran the script',
        '== /c1', 'expanded world',
        '== /c2', 'literal $NAME',
        '== /h3', 'tabs stripped',
        '== /h4', 'first body', 'second body',
        '== /multi/one.txt', 'one',
        '== /multi/two.txt', 'two',
        '',
      ].join('\n'),
    );
  });
});

describe('parser directives and line continuations', () => {
  it('# escape=` makes backslashes literal and ` the continuation; # syntax= is accepted; comments inside continuations are dropped', async () => {
    const dir = await contextWith({
      Dockerfile: [
        '# syntax=docker/dockerfile:1',
        '# escape=`',
        'FROM busybox',
        "RUN echo 'C:\\dir\\' > /esc && `",
        '    # a comment inside the continuation',
        '    echo continued >> /esc',
        'RUN echo `',
        '',
        '  after-blank-line >> /esc',
        '',
      ].join('\n'),
    });
    const built = await build(dir, '-t', 'escaped');
    expect(built.code, built.stderr).toBe(0);
    expect(await shellIn('escaped', 'cat /esc')).toBe('C:\\dir\\\ncontinued\nafter-blank-line\n');
  });
});

describe('ARG scoping', () => {
  it('global ARGs feed FROM; a stage sees them only after re-declaring; --build-arg overrides; platform ARGs; unused args warn; proxies stay out of the image', async () => {
    const dir = await contextWith({
      Dockerfile: [
        'ARG BASE=busybox',
        'ARG TAG=latest',
        'ARG GLOBAL=global-default',
        'ARG KEPT=kept-default',
        'FROM ${BASE}:${TAG}',
        'RUN echo "before:[$GLOBAL][$KEPT]" > /args',
        'ARG GLOBAL',
        'ARG KEPT',
        'RUN echo "after:[$GLOBAL][$KEPT]" >> /args',
        'RUN echo "undeclared-platform:[$TARGETARCH]" >> /args',
        'ARG TARGETARCH',
        'ARG TARGETPLATFORM',
        'ARG BUILDPLATFORM',
        'RUN echo "arch:$TARGETARCH platform:$TARGETPLATFORM build:$BUILDPLATFORM" >> /args',
        'RUN echo "proxy:[$HTTP_PROXY]" >> /args',
        '',
      ].join('\n'),
    });
    const built = await build(dir, '-t', 'args', '--build-arg', 'GLOBAL=overridden', '--build-arg', 'HTTP_PROXY=http://proxy.internal.test:3128', '--build-arg', 'NOBODY_USES_ME=1');
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toMatch(/WARNING: .*build-args \[NOBODY_USES_ME\] were not consumed/);
    expect(built.stderr).not.toMatch(/WARNING: .*\[[^\]]*HTTP_PROXY/);
    const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64' | 'arm64'];
    expect(await shellIn('args', 'cat /args')).toBe(
      [
        'before:[][]',
        'after:[overridden][kept-default]',
        'undeclared-platform:[]',
        `arch:${arch} platform:linux/${arch} build:linux/${arch}`,
        'proxy:[http://proxy.internal.test:3128]',
        '',
      ].join('\n'),
    );
    const inspected = await runKiln(['inspect', 'args'], { root: kiln.root });
    expect(inspected.stdout).toContain('GLOBAL=overridden');
    expect(inspected.stdout).not.toContain('proxy.internal.test');
    expect(inspected.stdout).not.toContain('HTTP_PROXY=');
  });
});

describe('config instructions', () => {
  it('ENV (both forms), LABEL, EXPOSE ranges, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL, ENTRYPOINT + CMD, MAINTAINER', async () => {
    const dir = await contextWith({
      Dockerfile: [
        'FROM busybox',
        'MAINTAINER Jane Doe <jane@example.com>',
        'ENV ONE=1 TWO="two words"',
        'ENV LEGACY legacy form value',
        'LABEL a=b "c d"="e f"',
        'EXPOSE 8000-8002/tcp 53/udp',
        'VOLUME ["/data", "/logs"]',
        'VOLUME /cache',
        'STOPSIGNAL SIGQUIT',
        'HEALTHCHECK --interval=5s --timeout=2s --start-period=1s --start-interval=1s --retries=4 CMD wget -q localhost || exit 1',
        'RUN echo "default $0" > /shells',
        'SHELL ["/bin/sh", "-ec"]',
        'RUN echo "sh flags $-" >> /shells',
        'SHELL ["/bin/busybox", "ash", "-c"]',
        'RUN echo "ash $TWO" >> /shells',
        'ENTRYPOINT ["echo", "ep"]',
        'CMD ["default", "cmd"]',
        '',
      ].join('\n'),
    });
    const built = await build(dir, '-t', 'configured');
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toMatch(/MaintainerDeprecated.*Dockerfile:2/);
    expect(built.stderr).toMatch(/LegacyKeyValueFormat.*Dockerfile:4/);
    const image = await inspect('configured');
    const config = image.Config.config;
    expect(config.Env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'ONE=1', 'TWO=two words', 'LEGACY=legacy form value']);
    expect(config.Labels).toEqual({ a: 'b', 'c d': 'e f' });
    expect(config.ExposedPorts).toEqual({ '8000/tcp': {}, '8001/tcp': {}, '8002/tcp': {}, '53/udp': {} });
    expect(config.Volumes).toEqual({ '/data': {}, '/logs': {}, '/cache': {} });
    expect(config.StopSignal).toBe('SIGQUIT');
    expect(config.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'wget -q localhost || exit 1'], Interval: 5e9, Timeout: 2e9, StartPeriod: 1e9, StartInterval: 1e9, Retries: 4 });
    expect(config.Shell).toEqual(['/bin/busybox', 'ash', '-c']);
    expect(config.Entrypoint).toEqual(['echo', 'ep']);
    expect(config.Cmd).toEqual(['default', 'cmd']);
    expect(image.Config.history.map((entry) => entry.created_by)).toContain('MAINTAINER Jane Doe <jane@example.com>');
    expect(await shellIn('configured', 'cat /shells')).toBe('default /bin/sh\nsh flags ce\nash two words\n');
    expect((await runKiln(['run', '--rm', 'configured'], { root: kiln.root })).stdout).toBe('ep default cmd\n');
    expect((await runKiln(['run', '--rm', 'configured', 'replaced', 'args'], { root: kiln.root })).stdout).toBe('ep replaced args\n');
  });

  it('ONBUILD triggers run in the child; ENTRYPOINT resets the inherited CMD; shell forms use the shell; HEALTHCHECK NONE', async () => {
    const dir = await contextWith({
      'Dockerfile.parent': 'FROM busybox\nCMD ["echo", "parent-cmd"]\nONBUILD RUN echo triggered > /t\nONBUILD ENV FROM_TRIGGER=yes\nHEALTHCHECK CMD true\n',
      'Dockerfile.inherit': 'FROM parent\n',
      'Dockerfile.exec-ep': 'FROM parent\nENTRYPOINT ["echo", "ep"]\nHEALTHCHECK NONE\n',
      'Dockerfile.shell-ep': 'FROM parent\nENTRYPOINT echo shell-ep "$FROM_TRIGGER"\n',
      'Dockerfile.shell-cmd': 'FROM parent\nCMD echo shell-cmd "$FROM_TRIGGER"\n',
    });
    expect((await build(dir, '-t', 'parent', '-f', join(dir, 'Dockerfile.parent'))).code).toBe(0);
    const parent = await inspect('parent');
    expect(parent.Config.config.OnBuild).toEqual(['RUN echo triggered > /t', 'ENV FROM_TRIGGER=yes']);
    expect((await runKiln(['run', '--rm', 'parent', 'cat', '/t'], { root: kiln.root })).code).not.toBe(0);

    for (const name of ['inherit', 'exec-ep', 'shell-ep', 'shell-cmd']) {
      const built = await build(dir, '-t', name, '-f', join(dir, `Dockerfile.${name}`));
      expect(built.code, built.stderr).toBe(0);
      expect(built.stderr).toContain('ONBUILD RUN echo triggered > /t');
    }
    expect(await shellIn('inherit', 'cat /t; echo "$FROM_TRIGGER"')).toBe('triggered\nyes\n');
    const inherit = await inspect('inherit');
    expect(inherit.Config.config.OnBuild).toBeUndefined();
    expect(inherit.Config.config.Cmd).toEqual(['echo', 'parent-cmd']);
    expect((await runKiln(['run', '--rm', 'inherit'], { root: kiln.root })).stdout).toBe('parent-cmd\n');

    const execEp = await inspect('exec-ep');
    expect(execEp.Config.config.Cmd).toBeUndefined();
    expect(execEp.Config.config.Healthcheck).toEqual({ Test: ['NONE'] });
    expect((await runKiln(['run', '--rm', 'exec-ep'], { root: kiln.root })).stdout).toBe('ep\n');
    expect((await runKiln(['run', '--rm', 'exec-ep', 'x'], { root: kiln.root })).stdout).toBe('ep x\n');

    expect((await inspect('shell-ep')).Config.config.Entrypoint).toEqual(['/bin/sh', '-c', 'echo shell-ep "$FROM_TRIGGER"']);
    expect((await runKiln(['run', '--rm', 'shell-ep', 'ignored'], { root: kiln.root })).stdout).toBe('shell-ep yes\n');
    expect((await inspect('shell-cmd')).Config.config.Cmd).toEqual(['/bin/sh', '-c', 'echo shell-cmd "$FROM_TRIGGER"']);
    expect((await runKiln(['run', '--rm', 'shell-cmd'], { root: kiln.root })).stdout).toBe('shell-cmd yes\n');
  });
});

describe('ADD and COPY', () => {
  it('ADD extracts a local tar.gz (COPY does not); COPY --chmod, --exclude, --parents and --link', async () => {
    const dir = await contextWith({
      'script.sh': '#!/bin/sh\necho script\n',
      'src/keep/k.txt': 'k',
      'src/skip/x.txt': 'x',
      'src/top.log': 'log',
      'src/top.txt': 'top',
      'tree/a/b/f.txt': 'f',
      'tree/c/g.txt': 'g',
      'tree/c/h.txt': 'h',
      Dockerfile: [
        'FROM busybox',
        'ADD archive.tar.gz /unpacked/',
        'COPY archive.tar.gz /not-unpacked/',
        'COPY --chmod=755 script.sh /bin/octal',
        'COPY --chmod=u=rwx,g=rx,o= script.sh /bin/symbolic',
        'COPY --exclude=skip --exclude=*.log src/ /excluded/',
        'COPY --parents tree/a/b/f.txt tree/c/g.txt /parents/',
        'COPY --link script.sh /linked/',
        '',
      ].join('\n'),
    });
    const tree = join(dir, 'archive-src');
    await mkdir(join(tree, 'sub'), { recursive: true });
    await writeFile(join(tree, 'inner.txt'), 'inner\n');
    await writeFile(join(tree, 'sub', 'deep.txt'), 'deep\n');
    execFileSync('tar', ['-czf', join(dir, 'archive.tar.gz'), '-C', tree, '.']);
    await rm(tree, { recursive: true });
    const built = await build(dir, '-t', 'copies');
    expect(built.code, built.stderr).toBe(0);
    const listing = await shellIn('copies', 'find /unpacked /not-unpacked /excluded /parents /linked | sort; cat /unpacked/sub/deep.txt; stat -c "%a %n" /bin/octal /bin/symbolic; /bin/octal');
    expect(listing.split('\n')).toEqual([
      '/excluded', '/excluded/keep', '/excluded/keep/k.txt', '/excluded/top.txt',
      '/linked', '/linked/script.sh',
      '/not-unpacked', '/not-unpacked/archive.tar.gz',
      '/parents', '/parents/tree', '/parents/tree/a', '/parents/tree/a/b', '/parents/tree/a/b/f.txt', '/parents/tree/c', '/parents/tree/c/g.txt',
      '/unpacked', '/unpacked/inner.txt', '/unpacked/sub', '/unpacked/sub/deep.txt',
      'deep',
      '755 /bin/octal', '750 /bin/symbolic',
      'script',
      '',
    ]);
  });
});

describe('build checks', () => {
  const WARNED = 'FROM busybox as base\nRUN echo STEP-OUTPUT-$((6*7))\nCMD echo hi\n';

  it('a build prints its check warnings with their lines and still succeeds', async () => {
    const dir = await contextWith({ Dockerfile: WARNED });
    const built = await build(dir);
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toContain('STEP-OUTPUT-42');
    expect(built.stderr).toMatch(/FromAsCasing: 'as' and 'FROM' keywords' casing do not match.*Dockerfile:1/);
    expect(built.stderr).toMatch(/JSONArgsRecommended: JSON arguments recommended for CMD.*Dockerfile:3/);
  });

  it('--check exits 1 when a check fails, 0 when none does, and runs nothing', async () => {
    const failing = await contextWith({ Dockerfile: WARNED.replace('STEP-OUTPUT', 'CHECK-ONLY') });
    const before = await storeState();
    const checked = await runKiln(['build', '--check', '--progress=plain', '-t', 'checked-only', failing], { root: kiln.root });
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain("Dockerfile:1: FromAsCasing: 'as' and 'FROM' keywords' casing do not match");
    expect(checked.stderr).toContain('Dockerfile:3: JSONArgsRecommended');
    expect(checked.stderr).not.toContain('CHECK-ONLY-42');
    expect(checked.stderr).not.toMatch(/^#\d+ /m);
    expect(checked.stdout).toBe('');

    const clean = await contextWith({ Dockerfile: 'FROM busybox AS base\nRUN echo CHECK-ONLY-$((6*7))\nCMD ["echo", "hi"]\n' });
    const passed = await runKiln(['build', '--check', '--progress=plain', clean], { root: kiln.root });
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stderr).toContain('no warnings found');
    expect(passed.stderr).not.toContain('CHECK-ONLY-42');
    expect(await storeState()).toBe(before);
  });

  it('# check=skip= silences a rule and # check=error=true turns a warning into a failure at its line', async () => {
    const skipped = await contextWith({ Dockerfile: '# check=skip=JSONArgsRecommended\nFROM busybox\nCMD echo hi\n' });
    const checked = await runKiln(['build', '--check', skipped], { root: kiln.root });
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stderr).not.toContain('JSONArgsRecommended');

    const strict = await contextWith({ Dockerfile: '# check=error=true\nFROM busybox as base\nRUN echo STRICT-$((6*7))\n' });
    const before = await storeState();
    const failed = await build(strict, '-t', 'strict');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("Dockerfile:2:1: lint violation found for rule FromAsCasing: 'as' and 'FROM' keywords' casing do not match");
    expect(failed.stderr).toContain('  2 | FROM busybox as base');
    expect(failed.stderr).not.toContain('STRICT-42');
    expect(await storeState()).toBe(before);

    const fixed = await contextWith({ Dockerfile: '# check=error=true\nFROM busybox AS base\nRUN echo STRICT-$((6*7))\n' });
    const passed = await build(fixed);
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stderr).toContain('STRICT-42');
  });
});
