// The Dockerfile frontend: text → AST → typed stages → the target's llb graph, image config, history and warnings.
import type { BuildDefinition, BuildWarning, ImageMetaResolver, Platform } from '../llb/index.js';
import type { DockerfileAst } from './ast.js';
import { byLocation, checkConfigOf, Linter } from './checks-linter.js';
import { runStaticChecks } from './checks.js';
import { lowerDockerfile, type LowerResult } from './lower.js';
import type { NamedContext } from './lower-state.js';
import { parseDockerfile } from './parser.js';
import { parseStages } from './stage.js';
import { checkSyntaxDirective } from './syntax-directive.js';

export { parseDockerfile } from './parser.js';
export { dumpAst } from './dump.js';
export { DockerfileError } from './dockerfile-error.js';
export { expandWord, expandWords, WordExpansionError } from './shell-lexer.js';
export { hostPlatform, parsePlatform, formatPlatform } from './platform.js';
export type { DockerfileAst, InstructionNode, HeredocNode } from './ast.js';

export interface FrontendRequest {
  /** Dockerfile text. */
  readonly dockerfile: string;
  /** Path for messages, e.g. "Dockerfile". */
  readonly file: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  /** Stage name; default: the last stage. */
  readonly target?: string;
  /** Host platform (linux/amd64): the target and build platform. */
  readonly platform: Platform;
  /** Base image config lookup; called only for stages the target reaches. */
  readonly resolver: ImageMetaResolver;
  /** .dockerignore patterns (already read by the caller). */
  readonly contextExcludes: readonly string[];
  /** --build-context NAME=...: a local directory or an image. */
  readonly namedContexts?: Readonly<Record<string, NamedContext>>;
}

async function run(req: FrontendRequest, allStages: boolean): Promise<{ ast: DockerfileAst; linter: Linter; result: LowerResult }> {
  const ast = parseDockerfile(req.dockerfile, req.file);
  checkSyntaxDirective(ast);
  const parsed = parseStages(ast);
  const linter = new Linter(req.file, checkConfigOf(ast, req.buildArgs));
  runStaticChecks(parsed, linter, req.platform);
  const result = await lowerDockerfile(
    parsed,
    {
      buildArgs: req.buildArgs,
      platform: req.platform,
      resolver: req.resolver,
      contextExcludes: req.contextExcludes,
      namedContexts: req.namedContexts ?? {},
    },
    linter,
    { allStages, ...(req.target === undefined ? {} : { target: req.target }) },
  );
  return { ast, linter, result };
}

function warningsOf(ast: DockerfileAst, linter: Linter, result: LowerResult): BuildWarning[] {
  const warnings = [...linter.warnings].sort(byLocation);
  if (result.unusedBuildArgs.length > 0) {
    warnings.push({
      rule: 'UnusedBuildArgs',
      message: `One or more build-args [${result.unusedBuildArgs.join(' ')}] were not consumed`,
      location: { file: ast.file, startLine: ast.startLine, endLine: ast.endLine },
    });
  }
  return warnings;
}

/** Lower a Dockerfile to the target stage's graph. Throws DockerfileError for bad Dockerfiles (and failing checks with check=error=true). */
export async function buildDefinitionFromDockerfile(req: FrontendRequest): Promise<BuildDefinition> {
  const { ast, linter, result } = await run(req, false);
  const failure = linter.failure(ast);
  if (failure !== undefined) throw failure;
  return { target: result.target, warnings: warningsOf(ast, linter, result) };
}

/** `kiln build --check`: every stage is checked (and its base image resolved); nothing is built. */
export async function checkDockerfile(req: FrontendRequest): Promise<readonly BuildWarning[]> {
  const { ast, linter, result } = await run(req, true);
  return warningsOf(ast, linter, result);
}
