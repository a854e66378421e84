import { describe, expect, it } from 'vitest';
import { buildDefinitionFromDockerfile, DockerfileError, type FrontendRequest } from '../../src/frontend/index.js';
import type { FileAction, HistoryStep, ImageMetaResolver, ImageRuntimeConfig, Op, Platform, Vertex } from '../../src/llb/index.js';

interface FakeImage {
  readonly config: ImageRuntimeConfig;
  readonly history?: readonly HistoryStep[];
  readonly author?: string;
}

/** A resolver over a fixed set of images that records what it was asked. */
class FakeResolver implements ImageMetaResolver {
  readonly calls: string[] = [];
  constructor(private readonly images: Readonly<Record<string, FakeImage>> = {}) {}
  async resolveImageConfig(ref: string, _platform: Platform) {
    this.calls.push(ref);
    const image = this.images[ref] ?? { config: {} };
    return { digest: 'sha256:0', config: image.config, history: image.history ?? [], ...(image.author === undefined ? {} : { author: image.author }) };
  }
}

function request(dockerfile: string, extra: Partial<FrontendRequest> = {}): FrontendRequest {
  return {
    dockerfile,
    file: 'Dockerfile',
    buildArgs: {},
    platform: { os: 'linux', architecture: 'amd64' },
    resolver: new FakeResolver(),
    contextExcludes: [],
    ...extra,
  };
}

async function lower(dockerfile: string, extra: Partial<FrontendRequest> = {}) {
  return (await buildDefinitionFromDockerfile(request(dockerfile, extra))).target;
}

function op<K extends Op['kind']>(v: Vertex, kind: K): Extract<Op, { kind: K }> {
  if (v.op.kind !== kind) throw new Error(`expected ${kind}, got ${v.op.kind} (${v.name})`);
  return v.op as Extract<Op, { kind: K }>;
}

function actions(v: Vertex): readonly FileAction[] {
  return op(v, 'file').actions;
}

/** The chain of input-0 vertices from the root down to the source. */
function chain(v: Vertex): Vertex[] {
  const out = [v];
  while (out.at(-1)!.inputs.length > 0) out.push(out.at(-1)!.inputs[0]!);
  return out;
}

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

describe('stages and reachability', () => {
  it('lowers FROM scratch to a scratch source', async () => {
    const target = await lower('FROM scratch\nCOPY a /a\n');
    expect(chain(target.root).at(-1)!.op).toEqual({ kind: 'source-scratch' });
  });

  it('starts a stage from the base image config and history', async () => {
    const resolver = new FakeResolver({
      busybox: { config: { Env: ['PATH=/bin'], Cmd: ['sh'], WorkingDir: '/home', User: 'nobody' }, history: [{ createdBy: 'base layer' }] },
    });
    const target = await lower('FROM busybox\nRUN id\n', { resolver });
    const run = op(target.root, 'exec');
    expect(run).toMatchObject({ args: ['/bin/sh', '-c', 'id'], env: ['PATH=/bin'], cwd: '/home', user: 'nobody' });
    expect(target.root.inputs[0]!.op).toEqual({ kind: 'source-image', ref: 'busybox', platform: { os: 'linux', architecture: 'amd64' } });
    expect(target.config).toMatchObject({ Cmd: ['sh'], WorkingDir: '/home', User: 'nobody' });
    expect(target.history.map((h) => h.createdBy)).toEqual(['base layer', 'RUN /bin/sh -c id # buildkit']);
  });

  it('never lowers or resolves stages the target does not reach', async () => {
    const resolver = new FakeResolver();
    const target = await lower('FROM alpine AS unused\nRUN exit 1\nFROM busybox AS base\nFROM base AS app\nRUN true\nFROM debian AS other\n', {
      resolver,
      target: 'app',
    });
    expect(resolver.calls).toEqual(['busybox']);
    expect(op(target.root, 'exec').args).toEqual(['/bin/sh', '-c', 'true']);
  });

  it('resolves a stage reached through COPY --from and RUN --mount from=', async () => {
    const resolver = new FakeResolver();
    await lower('FROM alpine AS a\nFROM debian AS b\nFROM golang AS c\nFROM busybox\nCOPY --from=a /x /x\nRUN --mount=from=b,target=/b true\n', { resolver });
    expect(resolver.calls.sort()).toEqual(['alpine', 'busybox', 'debian']);
  });

  it('continues FROM a stage with its root, config and history', async () => {
    const target = await lower('FROM scratch AS base\nENV A=1\nCOPY a /a\nFROM base\nCMD ["x"]\n');
    expect(target.root.name).toBe('[base 1/1] COPY a /a');
    expect(op(target.root, 'file').actions[0]).toMatchObject({ kind: 'copy', dest: '/a' });
    expect(target.config.Env).toEqual([PATH, 'A=1']);
    expect(target.history.map((h) => h.createdBy)).toEqual(['ENV A=1', 'COPY a /a # buildkit', 'CMD ["x"]']);
  });

  it('builds the last stage by default', async () => {
    const target = await lower('FROM scratch AS one\nLABEL n=1\nFROM scratch AS two\nLABEL n=2\n');
    expect(target.config.Labels).toEqual({ n: '2' });
  });

  it('uses FROM --platform for the base image', async () => {
    const target = await lower('FROM --platform=linux/arm64 busybox AS arm64\nRUN true\n');
    expect(target.platform).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(target.root.inputs[0]!.op).toMatchObject({ platform: { os: 'linux', architecture: 'arm64' } });
  });
});

describe('RUN', () => {
  it('runs the shell form with the stage SHELL', async () => {
    const target = await lower('FROM scratch\nSHELL ["/bin/bash", "-eu", "-c"]\nRUN echo "$HOME" && ls\n');
    expect(op(target.root, 'exec').args).toEqual(['/bin/bash', '-eu', '-c', 'echo "$HOME" && ls']);
  });

  it('runs the exec form as is', async () => {
    const target = await lower('FROM scratch\nRUN ["echo", "$HOME"]\n');
    expect(op(target.root, 'exec').args).toEqual(['echo', '$HOME']);
  });

  it('takes cwd from WORKDIR and user from USER', async () => {
    const target = await lower('FROM scratch\nWORKDIR /app\nUSER 1000:1000\nRUN true\n');
    expect(op(target.root, 'exec')).toMatchObject({ cwd: '/app', user: '1000:1000', network: 'default', security: 'sandbox', mounts: [] });
  });

  it('passes --network and --security', async () => {
    const target = await lower('FROM scratch\nRUN --network=none --security=insecure true\n');
    expect(op(target.root, 'exec')).toMatchObject({ network: 'none', security: 'insecure' });
  });

  it('adds PATH to the environment when nothing set it', async () => {
    const target = await lower('FROM scratch\nRUN true\n');
    expect(op(target.root, 'exec').env).toEqual([PATH]);
  });

  it('turns --mount from= stages into extra inputs referenced by index', async () => {
    const target = await lower(
      'FROM scratch AS tools\nCOPY t /t\nFROM scratch\nRUN --mount=type=bind,from=tools,source=/t,target=/opt/t --mount=type=cache,target=/var/cache/apt,id=apt true\n',
    );
    const run = op(target.root, 'exec');
    expect(run.mounts).toEqual([
      { kind: 'bind', target: '/opt/t', source: '/t', from: 1, readwrite: false },
      { kind: 'cache', target: '/var/cache/apt', id: 'apt', sharing: 'shared', source: '/', mode: 0o755, uid: 0, gid: 0, readonly: false },
    ]);
    expect(target.root.inputs[1]!.name).toBe('[tools 1/1] COPY t /t');
  });

  it('binds the build context by default and resolves relative targets against WORKDIR', async () => {
    const target = await lower('FROM scratch\nWORKDIR /src\nRUN --mount=target=. make\n');
    const run = op(target.root, 'exec');
    expect(run.mounts).toEqual([{ kind: 'bind', target: '/src', source: '/', from: 1, readwrite: false }]);
    expect(target.root.inputs[1]!.op).toEqual({ kind: 'source-local', name: 'context', exclude: [] });
  });

  it('defaults secret, ssh and tmpfs mounts like BuildKit', async () => {
    const target = await lower(
      'FROM scratch\nRUN --mount=type=secret,id=npmrc --mount=type=secret,id=tok,env=TOKEN --mount=type=ssh --mount=type=tmpfs,target=/tmp,size=1m true\n',
    );
    expect(op(target.root, 'exec').mounts).toEqual([
      { kind: 'secret', id: 'npmrc', target: '/run/secrets/npmrc', required: false, mode: 0o400, uid: 0, gid: 0 },
      { kind: 'secret', id: 'tok', env: 'TOKEN', required: false, mode: 0o400, uid: 0, gid: 0 },
      { kind: 'ssh', id: 'default', required: false },
      { kind: 'tmpfs', target: '/tmp', sizeBytes: 1024 * 1024 },
    ]);
  });

  it('expands mount values with the stage scope', async () => {
    const target = await lower('FROM scratch\nARG CACHE=/c\nRUN --mount=type=cache,target=$CACHE true\n');
    expect(op(target.root, 'exec').mounts[0]).toMatchObject({ target: '/c', id: '/c' });
  });

  it('feeds a lone heredoc to the shell as the script', async () => {
    const target = await lower('FROM scratch\nRUN <<EOF\necho one\necho two\nEOF\n');
    expect(op(target.root, 'exec').args).toEqual(['/bin/sh', '-c', 'echo one\necho two\n']);
    expect(target.root.name).toBe('[1/1] RUN <<EOF (echo one...)');
  });

  it('runs a heredoc with a shebang as a file mounted on /dev/pipes', async () => {
    const target = await lower('FROM scratch\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n');
    const run = op(target.root, 'exec');
    expect(run.args).toEqual(['/bin/sh', '-c', '/dev/pipes/EOF']);
    expect(run.mounts).toEqual([{ kind: 'bind', target: '/dev/pipes', source: '/', from: 1, readwrite: false }]);
    expect(actions(target.root.inputs[1]!)).toEqual([{ kind: 'mkfile', path: '/EOF', mode: 0o755, data: '#!/usr/bin/env python3\nprint(1)\n' }]);
  });

  it('passes a command with a heredoc to the shell whole', async () => {
    const target = await lower('FROM scratch\nRUN python3 <<EOF > /out\nprint(1)\nEOF\n');
    expect(op(target.root, 'exec').args).toEqual(['/bin/sh', '-c', 'python3 <<EOF > /out\nprint(1)\nEOF']);
  });
});

describe('COPY and ADD', () => {
  it('copies from one shared build-context vertex', async () => {
    const target = await lower('FROM scratch\nCOPY a /a\nCOPY b /b\n', { contextExcludes: ['*.log'] });
    const second = target.root;
    const first = second.inputs[0]!;
    expect(second.inputs[1]).toBe(first.inputs[1]);
    expect(second.inputs[1]!.op).toEqual({ kind: 'source-local', name: 'context', exclude: ['*.log'] });
    expect(second.inputs[1]!.name).toBe('[internal] load build context');
    expect(actions(second)).toEqual([
      { kind: 'copy', source: 1, src: ['b'], dest: '/b', exclude: [], parents: false, link: false, unpackArchives: false },
    ]);
  });

  it('joins a relative destination with WORKDIR and keeps a trailing slash', async () => {
    const target = await lower('FROM scratch\nWORKDIR /app\nCOPY a b ./sub/\nCOPY c .\nCOPY d e\n');
    const [d, c, ab] = chain(target.root);
    expect(actions(ab!)[0]).toMatchObject({ src: ['a', 'b'], dest: '/app/sub/' });
    expect(actions(c!)[0]).toMatchObject({ dest: '/app/' });
    expect(actions(d!)[0]).toMatchObject({ dest: '/app/e' });
  });

  it('expands sources, destination, --chown and --chmod', async () => {
    const target = await lower('FROM scratch\nARG U=app\nENV D=/srv\nCOPY --chown=$U:staff --chmod=0644 ${U}.conf $D/\n');
    expect(actions(target.root)[0]).toMatchObject({ src: ['app.conf'], dest: '/srv/', chown: { user: 'app', group: 'staff' }, chmod: '0644' });
  });

  it('passes --link, --parents and --exclude', async () => {
    const target = await lower('FROM scratch\nCOPY --link --parents --exclude=*.md ./a/./b /dst/\n');
    expect(actions(target.root)[0]).toMatchObject({ link: true, parents: true, exclude: ['*.md'], src: ['./a/./b'] });
  });

  it('copies --from a stage by name or by index', async () => {
    const byName = await lower('FROM scratch AS build\nCOPY x /x\nFROM scratch\nCOPY --from=build /x /y\n');
    const byIndex = await lower('FROM scratch AS build\nCOPY x /x\nFROM scratch\nCOPY --from=0 /x /y\n');
    expect(byName.root.inputs[1]!.digest).toBe(byIndex.root.inputs[1]!.digest);
    expect(byName.root.inputs[1]!.name).toBe('[build 1/1] COPY x /x');
  });

  it('copies --from an image that is not a stage', async () => {
    const target = await lower('FROM scratch\nCOPY --from=nginx:1.25 /etc/nginx /etc/nginx\n');
    expect(target.root.inputs[1]!.op).toEqual({ kind: 'source-image', ref: 'nginx:1.25', platform: { os: 'linux', architecture: 'amd64' } });
  });

  it('copies --from a named build context', async () => {
    const target = await lower('FROM scratch\nCOPY --from=docs / /usr/share/doc/\n', { namedContexts: { docs: { kind: 'local' } } });
    expect(target.root.inputs[1]!.op).toEqual({ kind: 'source-local', name: 'docs', exclude: [] });
  });

  it('expands COPY --from with the global ARGs', async () => {
    const target = await lower('ARG SRC=build\nFROM scratch AS build\nCOPY x /x\nFROM scratch\nCOPY --from=$SRC /x /y\n');
    expect(target.root.inputs[1]!.name).toBe('[build 1/1] COPY x /x');
  });

  it('unpacks local archives with ADD unless --unpack=false', async () => {
    const add = await lower('FROM scratch\nADD rootfs.tar.gz /\n');
    expect(actions(add.root)[0]).toMatchObject({ unpackArchives: true });
    const noUnpack = await lower('FROM scratch\nADD --unpack=false rootfs.tar.gz /\n');
    expect(actions(noUnpack.root)[0]).toMatchObject({ unpackArchives: false });
  });

  it('writes a COPY heredoc with mkfile, expanding variables but keeping quotes', async () => {
    const target = await lower('FROM scratch\nARG NAME=world\nCOPY <<EOF /etc/greeting/hello.txt\nsay "hello $NAME"\nEOF\n');
    expect(actions(target.root)).toEqual([
      { kind: 'mkdir', path: '/etc/greeting', mode: 0o755, makeParents: true },
      { kind: 'mkfile', path: '/etc/greeting/hello.txt', mode: 0o644, data: 'say "hello world"\n' },
    ]);
    expect(target.root.inputs.length).toBe(1);
  });

  it('writes quoted-terminator heredocs literally, into a directory destination, with --chmod', async () => {
    const target = await lower('FROM scratch\nCOPY --chmod=755 <<"EOF" /usr/bin/\necho $HOME\nEOF\n');
    expect(actions(target.root)).toEqual([
      { kind: 'mkdir', path: '/usr/bin', mode: 0o755, makeParents: true },
      { kind: 'mkfile', path: '/usr/bin/EOF', mode: 0o755, data: 'echo $HOME\n' },
    ]);
  });
});

describe('WORKDIR', () => {
  it('creates the directory with mkdir, owned by USER, and records a layer', async () => {
    const target = await lower('FROM scratch\nUSER app:staff\nWORKDIR /srv/app\n');
    expect(actions(target.root)).toEqual([{ kind: 'mkdir', path: '/srv/app', mode: 0o755, makeParents: true, chown: { user: 'app', group: 'staff' } }]);
    expect(target.config.WorkingDir).toBe('/srv/app');
    expect(target.history.at(-1)).toEqual({ createdBy: 'WORKDIR /srv/app', comment: 'buildkit.dockerfile.v0', layerOf: target.root.digest });
  });

  it('resolves a relative WORKDIR against the previous one', async () => {
    const target = await lower('FROM scratch\nWORKDIR /a\nWORKDIR b/../c\n');
    expect(target.config.WorkingDir).toBe('/a/c');
  });
});

describe('image config', () => {
  it('sets every config field and records empty-layer history', async () => {
    const target = await lower(
      [
        'FROM scratch',
        'ENV A=1 B="two words"',
        'LABEL org.opencontainers.image.title="demo" version=1',
        'EXPOSE 80 443/tcp 53/udp 8000-8002',
        'USER nobody',
        'VOLUME ["/data", "/logs"]',
        'STOPSIGNAL SIGTERM',
        'HEALTHCHECK --interval=30s --retries=3 CMD ["true"]',
        'ONBUILD RUN echo child',
        'ENTRYPOINT ["/app"]',
        'CMD ["--help"]',
        'MAINTAINER someone',
        '',
      ].join('\n'),
    );
    expect(target.config).toEqual({
      Env: [PATH, 'A=1', 'B=two words'],
      Labels: { 'org.opencontainers.image.title': 'demo', version: '1' },
      ExposedPorts: { '80/tcp': {}, '443/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {}, '8002/tcp': {} },
      User: 'nobody',
      Volumes: { '/data': {}, '/logs': {} },
      StopSignal: 'SIGTERM',
      Healthcheck: { Test: ['CMD', 'true'], Interval: 30e9, Retries: 3 },
      OnBuild: ['RUN echo child'],
      Entrypoint: ['/app'],
      Cmd: ['--help'],
      ArgsEscaped: true,
    });
    expect(target.history.every((h) => h.emptyLayer === true && h.comment === 'buildkit.dockerfile.v0')).toBe(true);
    expect(target.history.map((h) => h.createdBy)).toEqual([
      'ENV A=1 B=two words',
      'LABEL org.opencontainers.image.title=demo version=1',
      'EXPOSE map[443/tcp:{} 53/udp:{} 80/tcp:{} 8000/tcp:{} 8001/tcp:{} 8002/tcp:{}]',
      'USER nobody',
      'VOLUME [/data /logs]',
      'STOPSIGNAL SIGTERM',
      'HEALTHCHECK ["CMD" "true"]',
      'ONBUILD RUN echo child',
      'ENTRYPOINT ["/app"]',
      'CMD ["--help"]',
      'MAINTAINER someone',
    ]);
  });

  it('turns a shell-form CMD into the shell command', async () => {
    const target = await lower('FROM scratch\nCMD echo hi\n');
    expect(target.config.Cmd).toEqual(['/bin/sh', '-c', 'echo hi']);
  });

  it('drops the base image CMD when ENTRYPOINT is set', async () => {
    const resolver = new FakeResolver({ busybox: { config: { Cmd: ['sh'] } } });
    const target = await lower('FROM busybox\nENTRYPOINT ["/app"]\n', { resolver });
    expect(target.config.Cmd).toBeUndefined();
    expect(target.config.Entrypoint).toEqual(['/app']);
  });

  it('keeps a CMD set before ENTRYPOINT in the same stage', async () => {
    const target = await lower('FROM scratch\nCMD ["--help"]\nENTRYPOINT ["/app"]\n');
    expect(target.config.Cmd).toEqual(['--help']);
  });

  it('does not reset ENTRYPOINT when CMD follows it', async () => {
    const target = await lower('FROM scratch\nENTRYPOINT ["/app"]\nCMD ["x"]\n');
    expect(target.config).toMatchObject({ Entrypoint: ['/app'], Cmd: ['x'] });
  });

  it('stores HEALTHCHECK NONE and a shell-form healthcheck', async () => {
    expect((await lower('FROM scratch\nHEALTHCHECK NONE\n')).config.Healthcheck).toEqual({ Test: ['NONE'] });
    expect((await lower('FROM scratch\nHEALTHCHECK --timeout=1m30s CMD curl -f http://localhost/\n')).config.Healthcheck).toEqual({
      Test: ['CMD-SHELL', 'curl -f http://localhost/'],
      Timeout: 90e9,
    });
  });

  it('expands EXPOSE words and takes the container port of a mapping', async () => {
    const target = await lower('FROM scratch\nENV PORTS="80 81"\nEXPOSE $PORTS 127.0.0.1:8080:90/UDP\n');
    expect(target.config.ExposedPorts).toEqual({ '80/tcp': {}, '81/tcp': {}, '90/udp': {} });
  });
});

describe('ONBUILD', () => {
  it('runs the base image triggers right after FROM and clears them', async () => {
    const resolver = new FakeResolver({ 'node-onbuild': { config: { OnBuild: ['COPY . /app/', 'RUN npm install'], WorkingDir: '/app' } } });
    const target = await lower('FROM node-onbuild\nRUN npm test\n', { resolver });
    const [test, install, copy] = chain(target.root);
    expect(op(test!, 'exec').args).toEqual(['/bin/sh', '-c', 'npm test']);
    expect(op(install!, 'exec').args).toEqual(['/bin/sh', '-c', 'npm install']);
    expect(install!.name).toBe('[3/4] ONBUILD RUN npm install');
    expect(install!.location).toEqual({ file: 'Dockerfile', startLine: 1, endLine: 1 });
    expect(actions(copy!)[0]).toMatchObject({ src: ['.'], dest: '/app/' });
    expect(target.config.OnBuild).toBeUndefined();
  });

  it('runs the ONBUILD triggers of a parent stage in the child stage only', async () => {
    const target = await lower('FROM scratch AS base\nONBUILD RUN echo triggered\nFROM base\nRUN echo child\n');
    const [child, triggered] = chain(target.root);
    expect(op(child!, 'exec').args.at(-1)).toBe('echo child');
    expect(op(triggered!, 'exec').args.at(-1)).toBe('echo triggered');
  });

  it('positions a bad trigger at the FROM line', async () => {
    const resolver = new FakeResolver({ bad: { config: { OnBuild: ['COPY onlyone'] } } });
    await expect(buildDefinitionFromDockerfile(request('\nFROM bad\n', { resolver }))).rejects.toMatchObject({
      line: 2,
      reason: 'COPY requires at least two arguments, but only one was provided. Destination could not be determined.',
    });
  });
});

describe('progress names and locations', () => {
  it('names vertices like BuildKit', async () => {
    const target = await lower('FROM busybox AS build\nRUN make\nCOPY . /src\nFROM build\nRUN  echo $HOME   done\n');
    const [run, copy, make, from] = chain(target.root);
    expect(from!.name).toBe('[build 1/3] FROM docker.io/library/busybox:latest');
    expect(make!.name).toBe('[build 2/3] RUN make');
    expect(copy!.name).toBe('[build 3/3] COPY . /src');
    expect(run!.name).toBe('[stage-1 1/1] RUN  echo $HOME   done');
    expect(run!.location).toEqual({ file: 'Dockerfile', startLine: 5, endLine: 5 });
    expect(run!.stage).toBe('1');
    expect(make!.stage).toBe('build');
  });

  it('names unnamed stages that are not last stage-N and pads the step number', async () => {
    const lines = ['FROM scratch', ...Array.from({ length: 10 }, (_, i) => `RUN step${i}`), 'FROM scratch', 'COPY --from=0 / /'];
    const target = await lower(`${lines.join('\n')}\n`);
    expect(target.root.inputs[1]!.name).toBe('[stage-0 10/10] RUN step9');
    expect(chain(target.root.inputs[1]!)[9]!.name).toBe('[stage-0  1/10] RUN step0');
  });

  it('expands known variables in names and keeps unknown ones', async () => {
    const target = await lower('FROM scratch\nENV DIR=/opt\nRUN ls "$DIR" $UNSET\n');
    expect(target.root.name).toBe('[1/1] RUN ls "/opt" $UNSET');
  });
});

describe('named contexts', () => {
  it('replaces a FROM image with a local named context', async () => {
    const resolver = new FakeResolver();
    const target = await lower('FROM base\nRUN true\n', { resolver, namedContexts: { base: { kind: 'local' } } });
    expect(resolver.calls).toEqual([]);
    expect(target.root.inputs[0]!.op).toEqual({ kind: 'source-local', name: 'base', exclude: [] });
  });

  it('replaces a FROM image with an image named context', async () => {
    const resolver = new FakeResolver();
    const target = await lower('FROM alpine\nRUN true\n', { resolver, namedContexts: { alpine: { kind: 'image', ref: 'busybox:latest' } } });
    expect(resolver.calls).toEqual(['busybox:latest']);
    expect(target.root.inputs[0]!.op).toMatchObject({ kind: 'source-image', ref: 'busybox:latest' });
  });
});

describe('named contexts replacing stages', () => {
  it('replaces a whole stage with the named context of the same name', async () => {
    const resolver = new FakeResolver();
    const target = await lower('FROM golang AS deps\nRUN go mod download\nFROM scratch\nCOPY --from=deps /go /go\n', {
      resolver,
      namedContexts: { deps: { kind: 'local' } },
    });
    expect(resolver.calls).toEqual([]);
    expect(target.root.inputs[1]!.op).toEqual({ kind: 'source-local', name: 'deps', exclude: [] });
  });

  it('copies --from an image named context without resolving its config', async () => {
    const resolver = new FakeResolver();
    const target = await lower('FROM scratch\nCOPY --from=tools /bin/tool /tool\n', { resolver, namedContexts: { tools: { kind: 'image', ref: 'busybox:1.36' } } });
    expect(target.root.inputs[1]!.op).toMatchObject({ kind: 'source-image', ref: 'busybox:1.36' });
    expect(resolver.calls).toEqual([]);
  });
});

describe('check=error=true', () => {
  it('fails the build with the first failing check', async () => {
    const err = await buildDefinitionFromDockerfile(request('# check=error=true\nFROM scratch\nMAINTAINER me\nCMD run\n')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerfileError);
    expect((err as DockerfileError).line).toBe(3);
    expect((err as DockerfileError).reason).toMatch(/^lint violation found for rule MaintainerDeprecated: Maintainer instruction is deprecated/);
  });

  it('builds when no check fails', async () => {
    await expect(buildDefinitionFromDockerfile(request('# check=error=true\nFROM scratch\nCMD ["run"]\n'))).resolves.toBeDefined();
  });

  it('MAINTAINER sets the image author; without it the base image and parent stages pass theirs on', async () => {
    const resolver = new FakeResolver({ based: { config: {}, author: 'Base Author' } });
    expect((await lower('FROM scratch\nMAINTAINER Jane <jane@example.com>\n')).author).toBe('Jane <jane@example.com>');
    expect((await lower('FROM based\nRUN true\n', { resolver })).author).toBe('Base Author');
    expect((await lower('FROM based AS one\nMAINTAINER Me\n\nFROM one\nRUN true\n', { resolver })).author).toBe('Me');
    expect((await lower('FROM scratch\n')).author).toBeUndefined();
  });
});
