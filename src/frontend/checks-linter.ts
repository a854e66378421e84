// Build-check collection: the rule table, the `# check=` directive (skip, error, experimental), positioned warnings.
import type { BuildWarning, SourceLocation } from '../llb/index.js';
import type { DockerfileAst, InstructionNode } from './ast.js';
import { DockerfileError } from './dockerfile-error.js';

export type RuleName =
  | 'StageNameCasing'
  | 'FromAsCasing'
  | 'NoEmptyContinuation'
  | 'ConsistentInstructionCasing'
  | 'DuplicateStageName'
  | 'ReservedStageName'
  | 'JSONArgsRecommended'
  | 'MaintainerDeprecated'
  | 'UndefinedArgInFrom'
  | 'WorkdirRelativePath'
  | 'UndefinedVar'
  | 'MultipleInstructionsDisallowed'
  | 'LegacyKeyValueFormat'
  | 'RedundantTargetPlatform'
  | 'SecretsUsedInArgOrEnv'
  | 'InvalidDefaultArgInFrom'
  | 'FromPlatformFlagConstDisallowed'
  | 'CopyIgnoredFile'
  | 'InvalidDefinitionDescription'
  | 'ExposeProtoCasing'
  | 'ExposeInvalidFormat';

/** Experimental rules run only when `# check=experimental=...` names them (or says all). */
const EXPERIMENTAL: ReadonlySet<RuleName> = new Set(['CopyIgnoredFile', 'InvalidDefinitionDescription']);

const urls = new Map<string, string>();

export function ruleUrl(rule: string): string {
  const known = urls.get(rule);
  if (known !== undefined) return known;
  const kebab = rule.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2').toLowerCase();
  const url = `https://docs.docker.com/go/dockerfile/rule/${kebab}/`;
  urls.set(rule, url);
  return url;
}

export interface CheckConfig {
  readonly skipAll: boolean;
  readonly skip: ReadonlySet<string>;
  readonly experimentalAll: boolean;
  readonly experimental: ReadonlySet<string>;
  readonly error: boolean;
}

const DEFAULT_CONFIG: CheckConfig = { skipAll: false, skip: new Set(), experimentalAll: false, experimental: new Set(), error: false };

/** Parse "skip=A,B;error=true;experimental=all" (the check directive or BUILDKIT_DOCKERFILE_CHECK). */
export function parseCheckConfig(text: string): CheckConfig {
  let skipAll = false;
  const skip = new Set<string>();
  let experimentalAll = false;
  const experimental = new Set<string>();
  let error = false;
  for (const part of text.split(';')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq < 0) throw new Error(`invalid check option ${JSON.stringify(trimmed)}: expected key=value`);
    const key = trimmed.slice(0, eq).trim().toLowerCase();
    const value = trimmed.slice(eq + 1).trim();
    const names = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
    switch (key) {
      case 'skip':
        if (names.some((n) => n.toLowerCase() === 'all')) skipAll = true;
        for (const n of names) skip.add(n);
        break;
      case 'experimental':
        if (names.some((n) => n.toLowerCase() === 'all')) experimentalAll = true;
        for (const n of names) experimental.add(n);
        break;
      case 'error':
        if (!/^(true|false|1|0)$/i.test(value)) throw new Error(`invalid check option error=${value}: expected true or false`);
        error = /^(true|1)$/i.test(value);
        break;
      default:
        throw new Error(`invalid check option ${JSON.stringify(key)}: expected skip, error or experimental`);
    }
  }
  return { skipAll, skip, experimentalAll, experimental, error };
}

/** The check configuration of a Dockerfile: BUILDKIT_DOCKERFILE_CHECK overrides the `# check=` directive. */
export function checkConfigOf(ast: DockerfileAst, buildArgs: Readonly<Record<string, string>>): CheckConfig {
  const fromArg = Object.hasOwn(buildArgs, 'BUILDKIT_DOCKERFILE_CHECK') ? buildArgs.BUILDKIT_DOCKERFILE_CHECK : undefined;
  const directive = ast.directives.find((d) => d.name.toLowerCase() === 'check');
  const text = fromArg ?? directive?.value;
  if (text === undefined) return DEFAULT_CONFIG;
  try {
    return parseCheckConfig(text);
  } catch (err) {
    const line = directive?.line ?? 1;
    throw new DockerfileError(ast.file, line, 1, `failed to parse check options: ${(err as Error).message}`, ast.lines[line - 1]);
  }
}

/** Collects the warnings of one build, honouring the check configuration. */
export class Linter {
  readonly warnings: BuildWarning[] = [];

  constructor(
    readonly file: string,
    readonly config: CheckConfig = DEFAULT_CONFIG,
  ) {}

  enabled(rule: RuleName): boolean {
    if (EXPERIMENTAL.has(rule) && !this.config.experimentalAll && !this.config.experimental.has(rule)) return false;
    if (this.config.skipAll && !this.config.experimental.has(rule)) return false;
    return !this.config.skip.has(rule);
  }

  /** Report `rule` at lines start..end. */
  report(rule: RuleName, message: string, startLine: number, endLine: number = startLine): void {
    if (!this.enabled(rule)) return;
    this.warnings.push({ rule, message, location: { file: this.file, startLine, endLine }, url: ruleUrl(rule) });
  }

  reportAt(rule: RuleName, message: string, node: InstructionNode): void {
    this.report(rule, message, node.startLine, node.endLine);
  }

  /** With `error=true`, the first warning as a DockerfileError. */
  failure(ast: DockerfileAst): DockerfileError | undefined {
    if (!this.config.error) return undefined;
    const first = [...this.warnings].sort(byLocation)[0];
    if (first === undefined) return undefined;
    const line = first.location?.startLine ?? 1;
    return new DockerfileError(
      ast.file,
      line,
      1,
      `lint violation found for rule ${first.rule}: ${first.message} (checks are errors because of check=error=true; see ${first.url})`,
      ast.lines[line - 1],
    );
  }
}

export function byLocation(a: BuildWarning, b: BuildWarning): number {
  return (a.location?.startLine ?? 0) - (b.location?.startLine ?? 0);
}

export function locationOf(file: string, node: InstructionNode): SourceLocation {
  return { file, startLine: node.startLine, endLine: node.endLine };
}
