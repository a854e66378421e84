// Build checks that need only the parsed Dockerfile (casing, stage names, EXPOSE format, description comments...).
import type { InstructionNode } from './ast.js';
import { evaluateMetaArgs } from './args.js';
import type { Linter } from './checks-linter.js';
import { DockerfileError } from './dockerfile-error.js';
import type { Expander } from './instructions-expand.js';
import { isValidReference } from './lower-names.js';
import { platformArgs } from './platform.js';
import type { Platform } from '../llb/index.js';
import { expandWordDetailed, WordExpansionError } from './shell-lexer.js';
import type { ParsedDockerfile } from './stage.js';

const RESERVED_STAGE_NAMES = new Set(['context', 'scratch']);

function isSelfConsistent(s: string): boolean {
  return s === s.toLowerCase() || s === s.toUpperCase();
}

function checkStageNames(parsed: ParsedDockerfile, linter: Linter): void {
  const seen = new Set<string>();
  for (const stage of parsed.stages) {
    const from = stage.from;
    if (from.stageName === undefined) continue;
    const node = from.node;
    if (from.stageNameOriginal !== undefined && from.stageNameOriginal !== from.stageNameOriginal.toLowerCase()) {
      linter.reportAt('StageNameCasing', `Stage name '${from.stageNameOriginal}' should be lowercase`, node);
    }
    const keyword = node.original;
    const as = from.asKeyword ?? 'AS';
    if (isSelfConsistent(keyword)) {
      const ok = keyword === keyword.toLowerCase() ? as === as.toLowerCase() : as === as.toUpperCase();
      if (!ok) linter.reportAt('FromAsCasing', `'${as}' and '${keyword}' keywords' casing do not match`, node);
    }
    if (RESERVED_STAGE_NAMES.has(from.stageName)) {
      linter.reportAt('ReservedStageName', `Stage name should not use the same name as reserved stage ${JSON.stringify(from.stageName)}`, node);
    }
    if (seen.has(from.stageName)) {
      linter.reportAt('DuplicateStageName', `Duplicate stage name ${JSON.stringify(from.stageName)}, stage names should be unique`, node);
    }
    seen.add(from.stageName);
  }
}

interface Casing {
  readonly lower: boolean;
  readonly upper: boolean;
}

function checkCasing(parsed: ParsedDockerfile, linter: Linter): void {
  const keywords: InstructionNode[] = [];
  for (const stage of parsed.stages) {
    keywords.push(stage.from.node);
    for (const i of stage.instructions) keywords.push(i.node);
  }
  // A Dockerfile spells a handful of keywords thousands of times: case each spelling once.
  const casings = new Map<string, Casing>();
  const casingOf = (name: string): Casing => {
    let casing = casings.get(name);
    if (casing === undefined) {
      casing = { lower: name === name.toLowerCase(), upper: name === name.toUpperCase() };
      casings.set(name, casing);
    }
    return casing;
  };
  let lower = 0;
  let upper = 0;
  for (const node of keywords) {
    const casing = casingOf(node.original);
    if (casing.lower) lower++;
    else if (casing.upper) upper++;
  }
  const majorityLower = lower > upper;
  for (const node of keywords) {
    const name = node.original;
    const casing = casingOf(name);
    let correct: string | undefined;
    if (majorityLower && !casing.lower) correct = 'lowercase';
    else if (!majorityLower && !casing.upper) correct = 'uppercase';
    if (correct !== undefined) {
      linter.reportAt('ConsistentInstructionCasing', `Command '${name}' should match the case of the command majority (${correct})`, node);
    }
  }
}

function checkExpose(parsed: ParsedDockerfile, linter: Linter): void {
  for (const stage of parsed.stages) {
    for (const instr of stage.instructions) {
      if (instr.kind !== 'expose') continue;
      for (const port of instr.ports) {
        if (port.includes(':')) {
          linter.reportAt('ExposeInvalidFormat', `EXPOSE instruction should not define an IP address or host-port mapping, found '${port}'`, instr.node);
        }
        const slash = port.lastIndexOf('/');
        if (slash >= 0) {
          const proto = port.slice(slash + 1);
          if (proto !== proto.toLowerCase()) {
            linter.reportAt('ExposeProtoCasing', `Defined protocol '${port}' in EXPOSE instruction should be lowercase`, instr.node);
          }
        }
      }
    }
  }
}

/** The comment block right above `node` (closest line last), without the "#". */
function commentsAbove(parsed: ParsedDockerfile, node: InstructionNode): string[] {
  const directiveLines = new Set(parsed.ast.directives.map((d) => d.line));
  const out: string[] = [];
  for (let line = node.startLine - 1; line >= 1; line--) {
    const text = parsed.ast.lines[line - 1]!.trim();
    if (!text.startsWith('#') || directiveLines.has(line)) break;
    out.unshift(text.replace(/^#\s*/, ''));
  }
  return out;
}

function checkDescriptions(parsed: ParsedDockerfile, linter: Linter): void {
  const check = (instruction: string, keys: readonly string[], node: InstructionNode) => {
    const comments = commentsAbove(parsed, node);
    if (comments.length === 0 || keys.length === 0) return;
    const first = comments[comments.length - 1]!.split(' ')[0];
    if (keys.includes(first!)) return;
    const example = keys.length > 1 ? '<arg_key>' : keys[0]!;
    linter.reportAt('InvalidDefinitionDescription', `Comment for ${instruction} should follow the format: \`# ${example} <description>\``, node);
  };
  for (const meta of parsed.metaArgs) check('ARG', meta.args.map((a) => a.key), meta.node);
  for (const stage of parsed.stages) {
    if (stage.name !== undefined) check('FROM', [stage.name], stage.from.node);
    for (const instr of stage.instructions) if (instr.kind === 'arg') check('ARG', instr.args.map((a) => a.key), instr.node);
  }
}

function checkNoEmptyContinuation(parsed: ParsedDockerfile, linter: Linter): void {
  for (const w of parsed.ast.warnings) {
    if (w.rule === 'NoEmptyContinuation') linter.report('NoEmptyContinuation', w.message, w.line);
  }
}

/** With only the global ARGs' defaults, every FROM must still name a valid image. */
function checkDefaultArgsInFrom(parsed: ParsedDockerfile, linter: Linter, platform: Platform): void {
  if (parsed.metaArgs.length === 0) return;
  const ex: Expander = { source: parsed.ast, escapeChar: parsed.ast.escapeChar };
  let env: ReadonlyMap<string, string>;
  try {
    env = evaluateMetaArgs(ex, parsed.metaArgs, platformArgs(platform, platform), undefined).env;
  } catch (err) {
    // A bad default fails the build itself with its own error; the check has nothing to add.
    if (err instanceof DockerfileError) return;
    throw err;
  }
  for (const stage of parsed.stages) {
    const image = stage.from.image;
    if (!image.includes('$')) continue;
    let result: string;
    try {
      result = expandWordDetailed(image, env, parsed.ast.escapeChar, {}, false).word;
    } catch (err) {
      if (err instanceof WordExpansionError) return;
      throw err;
    }
    if (!isValidReference(result)) {
      linter.reportAt('InvalidDefaultArgInFrom', `Default value for ARG ${image} results in empty or invalid base image name`, stage.from.node);
    }
  }
}

/** Every check that does not need lowering. The rest run while lowering (UndefinedVar, WorkdirRelativePath, ...). */
export function runStaticChecks(parsed: ParsedDockerfile, linter: Linter, platform: Platform): void {
  checkNoEmptyContinuation(parsed, linter);
  checkStageNames(parsed, linter);
  checkCasing(parsed, linter);
  checkExpose(parsed, linter);
  checkDescriptions(parsed, linter);
  checkDefaultArgsInFrom(parsed, linter, platform);
}
