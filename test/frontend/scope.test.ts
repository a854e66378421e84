import { describe, expect, it } from 'vitest';
import { buildDefinitionFromDockerfile, hostPlatform, parsePlatform, type FrontendRequest } from '../../src/frontend/index.js';
import type { BuildDefinition, ImageMetaResolver, ImageRuntimeConfig, Op, Platform, Vertex } from '../../src/llb/index.js';

class RecordingResolver implements ImageMetaResolver {
  readonly calls: { ref: string; platform: Platform }[] = [];
  constructor(private readonly config: ImageRuntimeConfig = {}) {}
  async resolveImageConfig(ref: string, platform: Platform) {
    this.calls.push({ ref, platform });
    return { digest: 'sha256:0', config: this.config, history: [] };
  }
}

function request(dockerfile: string, extra: Partial<FrontendRequest> = {}): FrontendRequest {
  return {
    dockerfile,
    file: 'Dockerfile',
    buildArgs: {},
    platform: { os: 'linux', architecture: 'amd64' },
    resolver: new RecordingResolver(),
    contextExcludes: [],
    ...extra,
  };
}

function execOp(v: Vertex): Extract<Op, { kind: 'exec' }> {
  if (v.op.kind !== 'exec') throw new Error(`expected an exec vertex, got ${v.op.kind}`);
  return v.op;
}

function envOf(def: BuildDefinition): string[] {
  return [...execOp(def.target.root).env];
}

describe('global ARGs', () => {
  it('are usable in FROM lines', async () => {
    const resolver = new RecordingResolver();
    await buildDefinitionFromDockerfile(request('ARG TAG=1.36\nARG IMG=busybox:$TAG\nFROM $IMG\n', { resolver }));
    expect(resolver.calls.map((c) => c.ref)).toEqual(['busybox:1.36']);
  });

  it('are overridden by --build-arg', async () => {
    const resolver = new RecordingResolver();
    await buildDefinitionFromDockerfile(request('ARG TAG=1.36\nFROM busybox:${TAG}\n', { resolver, buildArgs: { TAG: 'musl' } }));
    expect(resolver.calls.map((c) => c.ref)).toEqual(['busybox:musl']);
  });

  it('are not visible inside a stage that does not redeclare them', async () => {
    const def = await buildDefinitionFromDockerfile(request('ARG V=1\nFROM scratch\nRUN echo "[$V]"\n'));
    expect(envOf(def).some((e) => e.startsWith('V='))).toBe(false);
  });

  it('give their value to an ARG redeclared without a value', async () => {
    const def = await buildDefinitionFromDockerfile(request('ARG V=1\nFROM scratch\nARG V\nRUN echo $V\n'));
    expect(envOf(def)).toContain('V=1');
  });

  it('give the --build-arg value to a redeclared ARG', async () => {
    const def = await buildDefinitionFromDockerfile(request('ARG V=1\nFROM scratch\nARG V\nRUN echo $V\n', { buildArgs: { V: '2' } }));
    expect(envOf(def)).toContain('V=2');
  });

  it('let a stage ARG default win over the global one', async () => {
    const def = await buildDefinitionFromDockerfile(request('ARG V=1\nFROM scratch\nARG V=3\nRUN echo $V\n'));
    expect(envOf(def)).toContain('V=3');
  });
});

describe('stage ARGs and ENV', () => {
  it('put ARG values in the RUN environment but not in the image config', async () => {
    const def = await buildDefinitionFromDockerfile(request('FROM scratch\nARG A=1\nENV B=2\nRUN true\n'));
    expect(envOf(def)).toEqual(expect.arrayContaining(['A=1', 'B=2']));
    expect(def.target.config.Env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'B=2']);
  });

  it('start from the base image Env and add PATH when it has none', async () => {
    const withPath = await buildDefinitionFromDockerfile(
      request('FROM busybox\nRUN true\n', { resolver: new RecordingResolver({ Env: ['PATH=/bin', 'HOME=/root'] }) }),
    );
    expect(envOf(withPath)).toEqual(['PATH=/bin', 'HOME=/root']);
    const withoutPath = await buildDefinitionFromDockerfile(request('FROM busybox\nRUN true\n', { resolver: new RecordingResolver({ Env: ['HOME=/root'] }) }));
    expect(envOf(withoutPath)).toEqual(['HOME=/root', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  });

  it('expand ENV and ARG values with what came before, in order', async () => {
    const def = await buildDefinitionFromDockerfile(request('FROM scratch\nARG A=a\nENV B=${A}b\nENV C="$B c"\nARG D=$C-d\nRUN true\n'));
    expect(envOf(def)).toEqual(expect.arrayContaining(['A=a', 'B=ab', 'C=ab c', 'D=ab c-d']));
  });

  it('expand every pair of one ENV with the environment before that ENV, like docker', async () => {
    const def = await buildDefinitionFromDockerfile(request('FROM scratch\nENV abc=hello\nENV abc=bye def=$abc\nRUN true\n'));
    expect(envOf(def)).toEqual(expect.arrayContaining(['abc=bye', 'def=hello']));
  });

  it('do not expand a --build-arg value', async () => {
    const def = await buildDefinitionFromDockerfile(request('FROM scratch\nARG A\nRUN true\n', { buildArgs: { A: '$HOME' } }));
    expect(envOf(def)).toContain('A=$HOME');
  });

  it('leave an ARG without value and without --build-arg out of the environment', async () => {
    const def = await buildDefinitionFromDockerfile(request('FROM scratch\nARG A\nRUN true\n'));
    expect(envOf(def).some((e) => e.startsWith('A='))).toBe(false);
  });

  it('are inherited by a stage built FROM another stage', async () => {
    const def = await buildDefinitionFromDockerfile(request('FROM scratch AS base\nARG A=1\nENV B=2\nFROM base\nRUN true\n'));
    expect(envOf(def)).toEqual(expect.arrayContaining(['A=1', 'B=2']));
    expect(def.target.config.Env).toContain('B=2');
  });

  it('record the ARGs in scope in the RUN history step', async () => {
    const def = await buildDefinitionFromDockerfile(request('FROM scratch\nARG V=1\nARG W\nRUN echo $V\n'));
    expect(def.target.history.at(-1)!.createdBy).toBe('RUN |2 V=1 W= /bin/sh -c echo $V # buildkit');
  });

  it('hand consecutive RUNs the very same env list until a variable changes value (its digest is computed once)', async () => {
    const def = await buildDefinitionFromDockerfile(
      request('FROM scratch\nENV A=1\nRUN one\nLABEL x=y\nENV A=1\nARG A=1\nRUN two\nENV A=2\nRUN three\n'),
    );
    const three = def.target.root;
    const two = three.inputs[0]!;
    const one = two.inputs[0]!;
    expect(execOp(two).env).toBe(execOp(one).env);
    expect(execOp(three).env).not.toBe(execOp(two).env);
    expect(execOp(three).env).toContain('A=2');
    expect(def.target.history.at(-3)!.createdBy).toBe('RUN |1 A=1 /bin/sh -c two # buildkit');
    expect(def.target.history.at(-1)!.createdBy).toBe('RUN |1 A=2 /bin/sh -c three # buildkit');
  });
});

describe('predefined ARGs', () => {
  it('set the platform ARGs from the host platform', async () => {
    const def = await buildDefinitionFromDockerfile(
      request('FROM scratch\nARG TARGETPLATFORM\nARG TARGETOS\nARG TARGETARCH\nARG BUILDPLATFORM\nARG BUILDARCH\nRUN true\n'),
    );
    expect(envOf(def)).toEqual(
      expect.arrayContaining(['TARGETPLATFORM=linux/amd64', 'TARGETOS=linux', 'TARGETARCH=amd64', 'BUILDPLATFORM=linux/amd64', 'BUILDARCH=amd64']),
    );
  });

  it('use the platform ARGs in FROM --platform', async () => {
    const resolver = new RecordingResolver();
    await buildDefinitionFromDockerfile(request('FROM --platform=$BUILDPLATFORM busybox\n', { resolver, platform: { os: 'linux', architecture: 'arm64' } }));
    expect(resolver.calls[0]!.platform).toEqual({ os: 'linux', architecture: 'arm64' });
  });

  it('pass proxy build args to RUN without an ARG and keep them out of history and config', async () => {
    const def = await buildDefinitionFromDockerfile(request('FROM scratch\nRUN true\n', { buildArgs: { HTTP_PROXY: 'http://proxy:3128', no_proxy: 'localhost' } }));
    expect(envOf(def)).toEqual(expect.arrayContaining(['HTTP_PROXY=http://proxy:3128', 'no_proxy=localhost']));
    expect(JSON.stringify(def.target.history)).not.toContain('proxy');
    expect(def.target.config.Env?.some((e) => e.includes('proxy'))).toBe(false);
    expect(def.warnings.find((w) => w.rule === 'UnusedBuildArgs')).toBeUndefined();
  });

  it('keep a declared proxy ARG in history, as docker does', async () => {
    const def = await buildDefinitionFromDockerfile(request('FROM scratch\nARG HTTP_PROXY\nRUN true\n', { buildArgs: { HTTP_PROXY: 'http://p' } }));
    expect(def.target.history.at(-1)!.createdBy).toBe('RUN |1 HTTP_PROXY=http://p /bin/sh -c true # buildkit');
  });
});

describe('unused build args', () => {
  it('warn about a --build-arg no ARG consumed', async () => {
    const def = await buildDefinitionFromDockerfile(request('ARG USED\nFROM scratch\nARG ALSO\n', { buildArgs: { USED: '1', ALSO: '2', NOPE: '3' } }));
    const warning = def.warnings.find((w) => w.rule === 'UnusedBuildArgs');
    expect(warning?.message).toBe('One or more build-args [NOPE] were not consumed');
    expect(warning?.location).toEqual({ file: 'Dockerfile', startLine: 1, endLine: 3 });
  });

  it('do not warn when every --build-arg is consumed', async () => {
    const def = await buildDefinitionFromDockerfile(request('FROM scratch\nARG A\n', { buildArgs: { A: '1' } }));
    expect(def.warnings.find((w) => w.rule === 'UnusedBuildArgs')).toBeUndefined();
  });
});

describe('platforms', () => {
  it('maps node architectures to OCI ones', () => {
    expect(hostPlatform('x64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(hostPlatform('arm64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(hostPlatform('arm')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
  });

  it('parses and normalizes platform strings', () => {
    expect(parsePlatform('linux/amd64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform('linux/arm/v6')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v6' });
    expect(parsePlatform('linux/aarch64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(parsePlatform('linux/x86_64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform('linux//amd64')).toBeUndefined();
  });
});
