import { describe, expect, it } from 'vitest';
import { buildDefinitionFromDockerfile, DockerfileError, type FrontendRequest } from '../../src/frontend/index.js';
import { parseGoDuration } from '../../src/frontend/instructions-healthcheck.js';
import { parseRunMount } from '../../src/frontend/instructions-run-mount.js';
import { parseDockerfile } from '../../src/frontend/parser.js';
import { parseStages } from '../../src/frontend/stage.js';
import type { ImageMetaResolver } from '../../src/llb/index.js';

const resolver: ImageMetaResolver = {
  async resolveImageConfig() {
    return { digest: 'sha256:0', config: {}, history: [] };
  },
};

function request(dockerfile: string, extra: Partial<FrontendRequest> = {}): FrontendRequest {
  return {
    dockerfile,
    file: 'Dockerfile',
    buildArgs: {},
    platform: { os: 'linux', architecture: 'amd64' },
    resolver,
    contextExcludes: [],
    ...extra,
  };
}

async function buildError(dockerfile: string, extra: Partial<FrontendRequest> = {}): Promise<DockerfileError> {
  try {
    await buildDefinitionFromDockerfile(request(dockerfile, extra));
  } catch (err) {
    if (err instanceof DockerfileError) return err;
    throw err;
  }
  throw new Error('expected the build definition to fail');
}

function instructionsOf(text: string) {
  const parsed = parseStages(parseDockerfile(text, 'Dockerfile'));
  return parsed.stages.flatMap((s) => s.instructions);
}

describe('positioned errors', () => {
  it.each([
    ['FROM busybox\nRunn echo hi\n', 2, 1, 'unknown instruction: Runn (did you mean RUN?)', 'Runn echo hi'],
    ['FROM busybox\n  cpoy a b\n', 2, 3, 'unknown instruction: cpoy (did you mean COPY?)', '  cpoy a b'],
    ['FROM busybox\nFOOBAR x\n', 2, 1, 'unknown instruction: FOOBAR', 'FOOBAR x'],
    ['FROM busybox\nCOPY --form=build a b\n', 2, 1, 'unknown flag: form (did you mean from?)', 'COPY --form=build a b'],
    ['FROM busybox\nCOPY --link=maybe a b\n', 2, 1, 'expecting boolean value for flag link, not: maybe', undefined],
    ['FROM busybox\nCOPY --from a b\n', 2, 1, 'missing a value on flag: from', undefined],
    ['FROM busybox\nCOPY --chown=a --chown=b x y\n', 2, 1, 'duplicate flag specified: chown', undefined],
    ['FROM busybox\nRUN --network=bridge true\n', 2, 1, 'unsupported network mode "bridge"', undefined],
    ['FROM busybox\nRUN --security=root true\n', 2, 1, 'security "root" is not valid', undefined],
    ['FROM busybox\nRUN --mount=type=cahce,target=/x true\n', 2, 1, 'unsupported mount type "cahce" (did you mean cache?)', undefined],
    ['FROM busybox\nENV A=1\nCOPY onlyone\n', 3, 1, 'COPY requires at least two arguments, but only one was provided. Destination could not be determined.', undefined],
    ['FROM busybox\nEXPOSE\n', 2, 1, 'EXPOSE requires at least one argument', undefined],
    ['FROM busybox\nWORKDIR\n', 2, 1, 'WORKDIR requires exactly one argument', undefined],
    ['FROM busybox\nSHELL /bin/bash -c\n', 2, 1, 'SHELL requires the arguments to be in JSON form', undefined],
    ['FROM busybox foo\n', 1, 1, 'FROM requires either one or three arguments', undefined],
    ['FROM busybox AS 1st\n', 1, 1, 'invalid name for build stage: "1st", name can\'t start with a number or contain symbols', undefined],
    ['FROM busybox\nONBUILD FROM alpine\n', 2, 1, "FROM isn't allowed as an ONBUILD trigger", undefined],
    ['FROM busybox\nONBUILD ONBUILD RUN x\n', 2, 1, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", undefined],
    ['RUN echo hi\nFROM busybox\n', 1, 1, 'no build stage in current context: RUN must come after a FROM instruction (only ARG may come before the first FROM)', 'RUN echo hi'],
    ['ARG A\nARG B\n', 2, 1, 'dockerfile contains no stages to build (add a FROM instruction)', undefined],
    ['FROM busybox\nHEALTHCHECK --interval=5x CMD true\n', 2, 1, 'time: unknown unit "x" in duration "5x"', undefined],
    ['FROM busybox\nHEALTHCHECK --timeout=abc CMD true\n', 2, 1, 'time: invalid duration "abc"', undefined],
    ['FROM busybox\nHEALTHCHECK --interval=10 CMD true\n', 2, 1, 'time: missing unit in duration "10"', undefined],
    ['FROM busybox\nHEALTHCHECK --retries=-1 CMD true\n', 2, 1, '--retries cannot be negative (-1)', undefined],
    ['FROM busybox\nHEALTHCHECK CMD\n', 2, 1, 'Missing command after HEALTHCHECK CMD', undefined],
    ['FROM busybox\nHEALTHCHECK NONE extra\n', 2, 1, 'HEALTHCHECK NONE takes no arguments', undefined],
    ['FROM busybox\nHEALTHCHECK SHELL x\n', 2, 1, 'Unknown type "SHELL" in HEALTHCHECK (try CMD)', undefined],
  ])('%j fails at %i:%i with %j', async (dockerfile, line, column, reason, sourceLine) => {
    const err = await buildError(dockerfile);
    expect(err.reason).toBe(reason);
    expect(err.line).toBe(line);
    expect(err.column).toBe(column);
    expect(err.file).toBe('Dockerfile');
    expect(err.message.startsWith(`Dockerfile:${line}:${column}: ${reason}`)).toBe(true);
    if (sourceLine !== undefined) expect(err.sourceLine).toBe(sourceLine);
  });

  it('reports an undefined ${V:?} with the variable and its message', async () => {
    const err = await buildError('FROM busybox\nENV A="${NOPE:?must be set}"\n');
    expect(err.line).toBe(2);
    expect(err.reason).toBe('failed to process "\\"${NOPE:?must be set}\\"": NOPE: must be set');
  });

  it('reports a duplicate stage name at the second FROM', async () => {
    const err = await buildError('FROM busybox AS a\nFROM busybox AS b\nFROM busybox AS A\n');
    expect(err.line).toBe(3);
    expect(err.reason).toBe('duplicate stage name "a", stage names should be unique');
  });

  it('reports a circular --from dependency at the instruction that closes it', async () => {
    const err = await buildError('FROM busybox AS x\nCOPY --from=y /a /a\nFROM busybox AS y\nCOPY --from=x /b /b\n');
    expect(err.reason).toMatch(/^circular dependency detected on stage: (x|y)$/);
    expect([2, 4]).toContain(err.line);
  });

  it('reports a stage copying from itself as circular', async () => {
    const err = await buildError('FROM busybox AS x\nCOPY --from=x /a /b\n');
    expect(err.reason).toBe('circular dependency detected on stage: x');
    expect(err.line).toBe(2);
  });

  it('reports an out-of-range stage index', async () => {
    const err = await buildError('FROM busybox\nCOPY --from=3 /a /b\n');
    expect(err.reason).toBe('invalid stage index 3');
  });

  it('rejects an unknown target stage with a suggestion', async () => {
    await expect(buildDefinitionFromDockerfile(request('FROM busybox AS build\nFROM busybox AS final\n', { target: 'biuld' }))).rejects.toThrow(
      'target stage "biuld" could not be found (did you mean build?)',
    );
  });

  it('requires a directory destination ending in / for several sources', async () => {
    const err = await buildError('FROM busybox\nCOPY a b /dst\n');
    expect(err.reason).toBe('When using COPY with more than one source file, the destination must be a directory and end with a /');
  });

  it('requires a directory destination ending in / for a wildcard', async () => {
    const err = await buildError('FROM busybox\nADD *.txt /dst\n');
    expect(err.reason).toBe('When using ADD with more than one source file, the destination must be a directory and end with a /');
  });

  it('names the line of an ADD from a URL, which is not supported yet', async () => {
    const err = await buildError('FROM busybox\n\nADD https://example.com/a.tar.gz /a\n');
    expect(err.line).toBe(3);
    expect(err.reason).toBe('ADD from a URL is not supported yet: https://example.com/a.tar.gz');
  });

  it('names the line of an ADD from git, which is not supported yet', async () => {
    const err = await buildError('FROM busybox\nADD https://github.com/moby/buildkit.git#v0.1 /src\n');
    expect(err.reason).toBe('ADD from a git repository is not supported yet: https://github.com/moby/buildkit.git#v0.1');
  });

  it('refuses a URL source for COPY', async () => {
    const err = await buildError('FROM busybox\nCOPY https://example.com/a /a\n');
    expect(err.reason).toBe("source can't be a URL for COPY");
  });

  it('rejects a bad --chmod', async () => {
    const err = await buildError('FROM busybox\nCOPY --chmod=999 a /a\n');
    expect(err.reason).toMatch(/^invalid chmod parameter: '999'/);
  });

  it('rejects an invalid STOPSIGNAL after expansion', async () => {
    const err = await buildError('FROM busybox\nARG S=SIGNOPE\nSTOPSIGNAL $S\n');
    expect(err.line).toBe(3);
    expect(err.reason).toBe('Invalid signal: SIGNOPE');
  });

  it('rejects an invalid EXPOSE protocol', async () => {
    const err = await buildError('FROM busybox\nEXPOSE 80/http\n');
    expect(err.reason).toBe('invalid proto: http');
  });

  it('rejects a blank base name', async () => {
    const err = await buildError('ARG IMG\nFROM $IMG\n');
    expect(err.line).toBe(2);
    expect(err.reason).toBe('base name ($IMG) should not be blank');
  });

  it('rejects an unparseable --platform', async () => {
    const err = await buildError('FROM --platform=linux/amd64/v2/x busybox\n');
    expect(err.reason).toMatch(/^failed to parse platform linux\/amd64\/v2\/x/);
  });

  it('wraps a resolver failure with the FROM position', async () => {
    const failing: ImageMetaResolver = {
      async resolveImageConfig(ref) {
        throw new Error(`image "${ref}" was not found`);
      },
    };
    const err = await buildError('FROM nothere:1\n', { resolver: failing });
    expect(err.line).toBe(1);
    expect(err.reason).toBe('failed to resolve image "nothere:1": image "nothere:1" was not found');
  });

  it('suggests the stage a misspelt --from meant when no such image exists', async () => {
    const failing: ImageMetaResolver = {
      async resolveImageConfig(ref) {
        if (ref === 'busybox') return { digest: 'sha256:0', config: {}, history: [] };
        throw new Error('not found');
      },
    };
    const err = await buildError('FROM busybox AS builder\nFROM busybox\nCOPY --from=biulder /a /a\n', { resolver: failing });
    expect(err.line).toBe(3);
    expect(err.reason).toBe('failed to resolve image "biulder": not found (did you mean stage "builder"?)');
  });
});

describe('typed instructions', () => {
  it('parses COPY flags, sources and destination', () => {
    const [copy] = instructionsOf('FROM scratch\nCOPY --from=build --chown=1:2 --chmod=755 --link --parents --exclude=*.md --exclude=x a b /d/\n');
    expect(copy).toMatchObject({
      kind: 'copy',
      from: 'build',
      chown: '1:2',
      chmod: '755',
      link: true,
      parents: true,
      exclude: ['*.md', 'x'],
      sources: ['a', 'b'],
      dest: '/d/',
    });
  });

  it('parses ADD flags', () => {
    const [add] = instructionsOf('FROM scratch\nADD --keep-git-dir=true --checksum=sha256:abc --unpack=false a /d\n');
    expect(add).toMatchObject({ kind: 'add', keepGitDir: true, checksum: 'sha256:abc', unpack: false, sources: ['a'], dest: '/d' });
  });

  it('takes a COPY heredoc as a source content', () => {
    const [copy] = instructionsOf('FROM scratch\nCOPY <<EOF /etc/motd\nhello $USER\nEOF\n');
    expect(copy).toMatchObject({ kind: 'copy', sources: [], contents: [{ name: 'EOF', data: 'hello $USER\n', expand: true }], dest: '/etc/motd' });
  });

  it('parses ENV and LABEL pairs in both forms', () => {
    const [env, legacy, label] = instructionsOf('FROM scratch\nENV A=1 B="2 3"\nENV C value with spaces\nLABEL x=y\n');
    expect(env).toMatchObject({ kind: 'env', pairs: [{ key: 'A', value: '1', legacy: false }, { key: 'B', value: '"2 3"', legacy: false }] });
    expect(legacy).toMatchObject({ kind: 'env', pairs: [{ key: 'C', value: 'value with spaces', legacy: true }] });
    expect(label).toMatchObject({ kind: 'label', pairs: [{ key: 'x', value: 'y' }] });
  });

  it('parses ARG names with and without defaults', () => {
    const [arg] = instructionsOf('FROM scratch\nARG a=1 b c="x y"\n');
    expect(arg).toMatchObject({ kind: 'arg', args: [{ key: 'a', value: '1' }, { key: 'b' }, { key: 'c', value: '"x y"' }] });
  });

  it('parses HEALTHCHECK options into nanoseconds', () => {
    const [hc] = instructionsOf(
      'FROM scratch\nHEALTHCHECK --interval=1m30s --timeout=3s --start-period=1.5s --start-interval=500ms --retries=4 CMD curl -f http://x/\n',
    );
    expect(hc).toMatchObject({
      kind: 'healthcheck',
      test: ['CMD-SHELL', 'curl -f http://x/'],
      interval: 90e9,
      timeout: 3e9,
      startPeriod: 1.5e9,
      startInterval: 500e6,
      retries: 4,
    });
  });

  it('keeps an exec-form HEALTHCHECK as CMD and NONE as NONE', () => {
    const [exec, none] = instructionsOf('FROM scratch\nHEALTHCHECK CMD ["curl", "-f", "x"]\nHEALTHCHECK NONE\n');
    expect(exec).toMatchObject({ test: ['CMD', 'curl', '-f', 'x'] });
    expect(none).toMatchObject({ test: ['NONE'] });
  });

  it('stores the ONBUILD trigger as written', () => {
    const [onbuild] = instructionsOf('FROM scratch\nONBUILD COPY --chown=1 . /app\n');
    expect(onbuild).toMatchObject({ kind: 'onbuild', expression: 'COPY --chown=1 . /app' });
  });

  it('lower-cases the stage name and keeps the original', () => {
    const parsed = parseStages(parseDockerfile('FROM busybox AS Build\n', 'Dockerfile'));
    expect(parsed.stages[0]).toMatchObject({ name: 'build', from: { stageNameOriginal: 'Build', asKeyword: 'AS', image: 'busybox' } });
  });

  it('keeps global ARGs before the first FROM apart from the stages', () => {
    const parsed = parseStages(parseDockerfile('ARG A=1\nARG B\nFROM busybox\nARG C\n', 'Dockerfile'));
    expect(parsed.metaArgs.map((a) => a.args[0]!.key)).toEqual(['A', 'B']);
    expect(parsed.stages[0]!.instructions.map((i) => i.kind)).toEqual(['arg']);
  });
});

describe('Go durations', () => {
  it.each([
    ['30s', 30e9],
    ['1m30s', 90e9],
    ['1h', 3600e9],
    ['1.5h', 5400e9],
    ['250ms', 250e6],
    ['10us', 10e3],
    ['7ns', 7],
    ['0', 0],
  ])('%s is %d ns', (text, ns) => {
    expect(parseGoDuration(text)).toBe(ns);
  });
});

describe('RUN --mount values', () => {
  it('reads a cache mount with every option', () => {
    const m = parseRunMount('type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0700,uid=1000,gid=1000,from=base,source=/c,ro', (w) => w);
    expect(m).toEqual({
      type: 'cache', target: '/root/.cache', id: 'pip', sharing: 'locked', mode: 0o700, uid: 1000, gid: 1000, from: 'base', source: '/c', readonly: true, required: false,
    });
  });

  it('makes bind mounts read-only and cache/tmpfs mounts writable by default', () => {
    expect(parseRunMount('target=/src', (w) => w)).toMatchObject({ type: 'bind', readonly: true });
    expect(parseRunMount('type=bind,target=/src,rw', (w) => w)).toMatchObject({ type: 'bind', readonly: false });
    expect(parseRunMount('type=cache,target=/c', (w) => w)).toMatchObject({ readonly: false });
    expect(parseRunMount('type=tmpfs,target=/t,size=64m', (w) => w)).toMatchObject({ readonly: false, sizeBytes: 64 * 1024 * 1024 });
  });

  it('reads secret and ssh mounts', () => {
    expect(parseRunMount('type=secret,id=aws,env=AWS_KEY,required', (w) => w)).toMatchObject({ type: 'secret', id: 'aws', env: 'AWS_KEY', required: true });
    expect(parseRunMount('type=ssh,required=true', (w) => w)).toMatchObject({ type: 'ssh', required: true });
  });

  it.each([
    ['type=bind,target=/x,mode=0755', 'mode not allowed for "bind" type mounts'],
    ['type=cache,target=/x,sharing=sometimes', 'unsupported sharing value "sometimes"'],
    ['type=bind,target=/x,sharing=shared', 'invalid cache sharing set for bind mount'],
    ['type=secret,id=a,from=b', 'secret mount should not have a from'],
    ['type=cache,target=/x,uid=abc', 'invalid value abc for uid'],
    ['type=cache,target=/x,mode=999', 'invalid value 999 for mode'],
    ['type=bind,target=/x,requred', "invalid field 'requred' must be a key=value pair"],
    ['type=bind,target=/x,trgt=/y', "unexpected key 'trgt' in 'trgt=/y' (did you mean target?)"],
    ['type=bind,required', "unexpected key 'required' for mount type 'bind'"],
    ['type=cache,id=x', 'mount type cache requires a target'],
    ['type=bind,"target=/x', 'failed to parse csv mounts: extraneous or missing " in quoted-field'],
  ])('rejects %s', (value, message) => {
    expect(() => parseRunMount(value, (w) => w)).toThrow(message);
  });

  it('refuses a variable in from= at parse time', () => {
    expect(() => parseRunMount('type=bind,from=$STAGE,target=/x')).toThrow("'from' doesn't support variable expansion, define alias stage instead");
  });

  it('expands values with the given expander', () => {
    expect(parseRunMount('type=cache,target=$DIR', (w) => w.replace('$DIR', '/cache'))).toMatchObject({ target: '/cache' });
  });
});
