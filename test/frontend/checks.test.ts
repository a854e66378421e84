import { describe, expect, it } from 'vitest';
import { buildDefinitionFromDockerfile, checkDockerfile, type FrontendRequest } from '../../src/frontend/index.js';
import type { BuildWarning, ImageMetaResolver, ImageRuntimeConfig } from '../../src/llb/index.js';

class ConfigResolver implements ImageMetaResolver {
  readonly calls: string[] = [];
  constructor(private readonly configs: Readonly<Record<string, ImageRuntimeConfig>> = {}) {}
  async resolveImageConfig(ref: string) {
    this.calls.push(ref);
    return { digest: 'sha256:0', config: this.configs[ref] ?? {}, history: [] };
  }
}

function request(dockerfile: string, extra: Partial<FrontendRequest> = {}): FrontendRequest {
  return {
    dockerfile,
    file: 'Dockerfile',
    buildArgs: {},
    platform: { os: 'linux', architecture: 'amd64' },
    resolver: new ConfigResolver(),
    contextExcludes: [],
    ...extra,
  };
}

async function check(dockerfile: string, extra: Partial<FrontendRequest> = {}): Promise<readonly BuildWarning[]> {
  return checkDockerfile(request(dockerfile, extra));
}

async function ruleWarnings(rule: string, dockerfile: string, extra: Partial<FrontendRequest> = {}): Promise<BuildWarning[]> {
  return (await check(dockerfile, extra)).filter((w) => w.rule === rule);
}

interface RuleCase {
  readonly rule: string;
  readonly bad: string;
  readonly good: string;
  readonly message: string;
  readonly line: number;
  readonly extra?: Partial<FrontendRequest>;
}

const cases: RuleCase[] = [
  { rule: 'StageNameCasing', bad: 'FROM scratch AS BuilderBase\n', good: 'FROM scratch AS builder-base\n', message: "Stage name 'BuilderBase' should be lowercase", line: 1 },
  { rule: 'FromAsCasing', bad: 'FROM scratch as builder\n', good: 'from scratch as builder\n', message: "'as' and 'FROM' keywords' casing do not match", line: 1 },
  {
    rule: 'NoEmptyContinuation',
    bad: 'FROM scratch\nEXPOSE \\\n\n80\n',
    good: 'FROM scratch\nEXPOSE \\\n# Port\n80\n',
    message: 'Empty continuation line found in: EXPOSE 80',
    line: 2,
  },
  {
    rule: 'ConsistentInstructionCasing',
    bad: 'FROM scratch\nCOPY a /a\nEntryPoint ["a"]\n',
    good: 'from scratch\ncopy a /a\nentrypoint ["a"]\n',
    message: "Command 'EntryPoint' should match the case of the command majority (uppercase)",
    line: 3,
  },
  {
    rule: 'DuplicateStageName',
    bad: 'FROM scratch AS builder\nFROM scratch AS builder\n',
    good: 'FROM scratch AS deb-builder\nFROM scratch AS go-builder\n',
    message: 'Duplicate stage name "builder", stage names should be unique',
    line: 2,
  },
  { rule: 'ReservedStageName', bad: 'FROM scratch AS context\n', good: 'FROM scratch AS builder\n', message: 'Stage name should not use the same name as reserved stage "context"', line: 1 },
  {
    rule: 'JSONArgsRecommended',
    bad: 'FROM scratch\nENTRYPOINT my-program start\n',
    good: 'FROM scratch\nSHELL ["/bin/bash", "-c"]\nENTRYPOINT my-program start\n',
    message: 'JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals',
    line: 2,
  },
  {
    rule: 'MaintainerDeprecated',
    bad: 'FROM scratch\nMAINTAINER moby@example.com\n',
    good: 'FROM scratch\nLABEL org.opencontainers.image.authors="moby@example.com"\n',
    message: 'Maintainer instruction is deprecated in favor of using label',
    line: 2,
  },
  {
    rule: 'UndefinedArgInFrom',
    bad: 'FROM node:22${VARIANT} AS jsbuilder\n',
    good: 'ARG VARIANT="-alpine3.20"\nFROM node:22${VARIANT} AS jsbuilder\n',
    message: "FROM argument 'VARIANT' is not declared",
    line: 1,
  },
  {
    rule: 'WorkdirRelativePath',
    bad: 'FROM scratch AS web\nWORKDIR usr/share/nginx/html\n',
    good: 'FROM scratch AS web\nWORKDIR /usr/share/nginx/html\nWORKDIR html\n',
    message: 'Relative workdir "usr/share/nginx/html" can have unexpected results if the base image changes',
    line: 2,
  },
  { rule: 'UndefinedVar', bad: 'FROM scratch AS base\nCOPY $foo .\n', good: 'FROM scratch AS base\nARG foo\nCOPY $foo .\n', message: "Usage of undefined variable '$foo'", line: 2 },
  {
    rule: 'MultipleInstructionsDisallowed',
    bad: 'FROM scratch\nENTRYPOINT ["echo", "Hello, Norway!"]\nENTRYPOINT ["echo", "Hello, Sweden!"]\n',
    good: 'FROM scratch\nHEALTHCHECK --interval=1s CMD ["curl", "-f", "http://localhost:8080"]\nCMD ["python"]\n',
    message: 'Multiple ENTRYPOINT instructions should not be used in the same stage because only the last one will be used',
    line: 2,
  },
  {
    rule: 'LegacyKeyValueFormat',
    bad: 'FROM scratch\nENV DEPS curl git\n',
    good: 'FROM scratch\nENV DEPS="curl git"\n',
    message: '"ENV key=value" should be used instead of legacy "ENV key value" format',
    line: 2,
  },
  {
    rule: 'RedundantTargetPlatform',
    bad: 'FROM --platform=$TARGETPLATFORM busybox AS builder\n',
    good: 'FROM --platform=$BUILDPLATFORM busybox AS builder\n',
    message: 'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior',
    line: 1,
  },
  {
    rule: 'SecretsUsedInArgOrEnv',
    bad: 'FROM scratch\nARG AWS_SECRET_ACCESS_KEY\n',
    good: 'FROM scratch\nARG PUBLIC_KEY\nENV KEYBOARD=us\n',
    message: 'Do not use ARG or ENV instructions for sensitive data (ARG "AWS_SECRET_ACCESS_KEY")',
    line: 2,
  },
  {
    rule: 'InvalidDefaultArgInFrom',
    bad: 'ARG TAG\nFROM busybox:${TAG}\n',
    good: 'ARG TAG=latest\nARG VARIANT\nFROM busybox:${TAG}\nFROM busybox:stable${VARIANT}\nFROM alpine:${X:-3.14}\n',
    message: 'Default value for ARG busybox:${TAG} results in empty or invalid base image name',
    line: 2,
  },
  {
    rule: 'FromPlatformFlagConstDisallowed',
    bad: 'FROM --platform=linux/amd64 busybox AS base\n',
    good: 'FROM --platform=linux/amd64 busybox AS build_amd64\n',
    message: 'FROM --platform flag should not use constant value "linux/amd64"',
    line: 1,
  },
  {
    rule: 'CopyIgnoredFile',
    bad: '# check=experimental=CopyIgnoredFile\nFROM scratch\nCOPY ./tmp/helloworld.txt /helloworld.txt\n',
    good: '# check=experimental=CopyIgnoredFile\nFROM scratch\nCOPY ./forever/helloworld.txt /helloworld.txt\n',
    message: 'Attempting to Copy file "./tmp/helloworld.txt" that is excluded by .dockerignore',
    line: 3,
    extra: { contextExcludes: ['tmp'] },
  },
  {
    rule: 'InvalidDefinitionDescription',
    bad: '# check=experimental=all\n\n# a non-descriptive comment\nFROM scratch AS base\n',
    good: '# check=experimental=all\n\n# base is a stage for compiling source\nFROM scratch AS base\n# VERSION This is the version number.\nARG VERSION=1\n',
    message: 'Comment for FROM should follow the format: `# base <description>`',
    line: 4,
  },
  {
    rule: 'ExposeProtoCasing',
    bad: 'FROM scratch\nEXPOSE 80/TcP\n',
    good: 'FROM scratch\nEXPOSE 80/tcp\n',
    message: "Defined protocol '80/TcP' in EXPOSE instruction should be lowercase",
    line: 2,
  },
  {
    rule: 'ExposeInvalidFormat',
    bad: 'FROM scratch\nEXPOSE 127.0.0.1:80:80\n',
    good: 'FROM scratch\nEXPOSE 80\n',
    message: "EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'",
    line: 2,
  },
];

function kebab(rule: string): string {
  return rule.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2').toLowerCase();
}

describe('build check rules', () => {
  it('covers every rule of the spec', () => {
    expect(cases.length).toBe(21);
  });

  describe.each(cases)('$rule', (c) => {
    it('fires on the bad example', async () => {
      const warnings = await ruleWarnings(c.rule, c.bad, c.extra);
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      expect(warnings[0]).toEqual({
        rule: c.rule,
        message: c.message,
        location: expect.objectContaining({ file: 'Dockerfile', startLine: c.line }),
        url: `https://docs.docker.com/go/dockerfile/rule/${kebab(c.rule)}/`,
      });
    });

    it('stays quiet on the good example', async () => {
      expect(await ruleWarnings(c.rule, c.good, c.extra)).toEqual([]);
    });
  });
});

describe('rule details', () => {
  it('suggests a close variable name for UndefinedVar', async () => {
    const [w] = await ruleWarnings('UndefinedVar', 'FROM scratch\nENV PATH=$PAHT:/app/bin\n');
    expect(w!.message).toBe("Usage of undefined variable '$PAHT' (did you mean $PATH?)");
  });

  it('does not report variables of the base image as undefined', async () => {
    const resolver = new ConfigResolver({ python: { Env: ['PYTHON_VERSION=3.12'] } });
    expect(await ruleWarnings('UndefinedVar', 'FROM python AS base\nARG VERSION=$PYTHON_VERSION\n', { resolver })).toEqual([]);
  });

  it('does not check shell-form RUN for undefined variables', async () => {
    expect(await ruleWarnings('UndefinedVar', 'FROM scratch\nRUN echo $NOT_HERE\n')).toEqual([]);
  });

  it('suggests a close global ARG for UndefinedArgInFrom', async () => {
    const [w] = await ruleWarnings('UndefinedArgInFrom', 'ARG VERSION=1\nFROM busybox:$VERSON\n');
    expect(w!.message).toBe("FROM argument 'VERSON' is not declared (did you mean VERSION?)");
  });

  it('does not run experimental rules unless enabled', async () => {
    expect(await ruleWarnings('CopyIgnoredFile', 'FROM scratch\nCOPY tmp/a /a\n', { contextExcludes: ['tmp'] })).toEqual([]);
    expect(await ruleWarnings('InvalidDefinitionDescription', '# just a comment\nFROM scratch AS base\n')).toEqual([]);
  });

  it('does not report ignored files copied --from another stage', async () => {
    const dockerfile = '# check=experimental=all\nFROM scratch AS a\nFROM scratch\nCOPY --from=a tmp/x /x\n';
    expect(await ruleWarnings('CopyIgnoredFile', dockerfile, { contextExcludes: ['tmp'] })).toEqual([]);
  });
});

describe('the check directive', () => {
  const noisy = 'FROM scratch AS Base\nMAINTAINER me\nCMD run\n';

  it('skips the rules it names', async () => {
    const warnings = await check(`# check=skip=StageNameCasing,MaintainerDeprecated\n${noisy}`);
    expect(warnings.map((w) => w.rule)).toEqual(['JSONArgsRecommended']);
  });

  it('skips everything with skip=all', async () => {
    expect(await check(`# check=skip=all\n${noisy}`)).toEqual([]);
  });

  it('is overridden by the BUILDKIT_DOCKERFILE_CHECK build arg', async () => {
    const warnings = await check(`# check=skip=all\n${noisy}`, { buildArgs: { BUILDKIT_DOCKERFILE_CHECK: 'skip=JSONArgsRecommended' } });
    expect(warnings.map((w) => w.rule).sort()).toEqual(['MaintainerDeprecated', 'StageNameCasing']);
  });

  it('rejects a malformed value with its position', async () => {
    await expect(check('# check=skip\nFROM scratch\n')).rejects.toMatchObject({ line: 1, reason: expect.stringMatching(/^failed to parse check options/) });
  });

  it('turns warnings into a build error with error=true, but --check still lists them', async () => {
    const text = `# check=error=true\n${noisy}`;
    await expect(buildDefinitionFromDockerfile(request(text))).rejects.toMatchObject({ line: 2, reason: expect.stringContaining('StageNameCasing') });
    expect((await check(text)).length).toBe(3);
  });
});

describe('--check', () => {
  it('checks and resolves every stage, reachable or not', async () => {
    const resolver = new ConfigResolver();
    const warnings = await check('FROM alpine AS unused\nMAINTAINER x\nFROM busybox\n', { resolver });
    expect(resolver.calls.sort()).toEqual(['alpine', 'busybox']);
    expect(warnings.map((w) => w.rule)).toEqual(['MaintainerDeprecated']);
  });

  it('only reports checks of reachable stages during a build', async () => {
    const def = await buildDefinitionFromDockerfile(request('FROM alpine AS unused\nMAINTAINER x\nFROM busybox\n'));
    expect(def.warnings).toEqual([]);
  });
});
