// Before lowering: global ARGs applied to every FROM (name, platform), `--from` names resolved, cycles found.
import type { InstructionNode } from './ast.js';
import type { GlobalArgs } from './args.js';
import type { Linter } from './checks-linter.js';
import { DockerfileError } from './dockerfile-error.js';
import { instructionError, InstructionProblem } from './instructions-error.js';
import { expandDetailedAt, type Expander } from './instructions-expand.js';
import { parseRunMount } from './instructions-run-mount.js';
import { withSuggestion } from './instructions-suggest.js';
import type { FromInstruction } from './instructions.js';
import type { StagePlan } from './lower-stage.js';
import type { LowerRequest, NamedContext, SourceRef } from './lower-state.js';
import { parsePlatform } from './platform.js';
import { WordExpansionError, expandWordDetailed } from './shell-lexer.js';
import type { StageDefinition } from './stage.js';

export interface PlannedStage extends StagePlan {
  /** A named build context with the stage's name replaces the whole stage (like --build-context in BuildKit). */
  readonly replacedBy?: NamedContext;
}

/** Resolves `--from`, `from=` and FROM names. */
export class SourceNames {
  constructor(
    private readonly stages: readonly StageDefinition[],
    private readonly namedContexts: Readonly<Record<string, NamedContext>>,
    private readonly source: Expander['source'],
  ) {}

  /** The stage called `name` (the last one, if names repeat). */
  stageByName(name: string, before = Infinity): StageDefinition | undefined {
    const lower = name.toLowerCase();
    let found: StageDefinition | undefined;
    for (const s of this.stages) if (s.index < before && s.name === lower) found = s;
    return found;
  }

  namedContext(name: string): NamedContext | undefined {
    return Object.hasOwn(this.namedContexts, name) ? this.namedContexts[name] : undefined;
  }

  /** `COPY --from=X` / `--mount=from=X`: a stage index, a stage name, a named context, or an image. */
  resolveFrom(name: string, node: InstructionNode): SourceRef {
    if (/^\d+$/.test(name)) {
      const index = Number(name);
      if (index >= this.stages.length) throw instructionError(this.source, node, `invalid stage index ${index}`);
      return { kind: 'stage', index };
    }
    const stage = this.stageByName(name);
    if (stage !== undefined) return { kind: 'stage', index: stage.index };
    const context = this.namedContext(name);
    if (context !== undefined) return { kind: 'context', name, context };
    if (name === 'scratch') return { kind: 'scratch' };
    return { kind: 'image', ref: name };
  }
}

function reportUndefinedInFrom(linter: Linter, global: GlobalArgs, unmatched: ReadonlySet<string>, node: InstructionNode): void {
  const known = new Set([...global.declared, ...global.env.keys()]);
  for (const name of unmatched) {
    if (known.has(name)) continue;
    linter.reportAt('UndefinedArgInFrom', withSuggestion(`FROM argument '${name}' is not declared`, name, known), node);
  }
}

function planPlatform(ex: Expander, linter: Linter, global: GlobalArgs, from: FromInstruction, build: LowerRequest['platform']) {
  if (from.platform === undefined) return build;
  const node = from.node;
  let match;
  try {
    match = expandDetailedAt(ex, node, from.platform, global.env);
  } catch (err) {
    if (err instanceof DockerfileError) {
      throw instructionError(ex.source, node, `failed to process arguments for platform ${from.platform}: ${err.reason}`);
    }
    throw err;
  }
  reportUndefinedInFrom(linter, global, match.unmatched, node);
  if (match.matched.size === 1 && match.unmatched.size === 0 && match.matched.has('TARGETPLATFORM') && match.word === global.env.get('TARGETPLATFORM')) {
    linter.reportAt('RedundantTargetPlatform', `Setting platform to predefined ${from.platform} in FROM is redundant as this is the default behavior`, node);
  }
  const parsed = match.word === '' ? undefined : parsePlatform(match.word);
  if (match.matched.size === 0 && match.unmatched.size === 0 && parsed !== undefined) {
    const stageName = from.stageName ?? '';
    if (!stageName.includes(parsed.os) && !stageName.includes(parsed.architecture)) {
      linter.reportAt('FromPlatformFlagConstDisallowed', `FROM --platform flag should not use constant value ${JSON.stringify(match.word)}`, node);
    }
  }
  if (match.word === '') throw instructionError(ex.source, node, `empty platform value from expression ${from.platform}`);
  if (parsed === undefined) throw instructionError(ex.source, node, `failed to parse platform ${from.platform}: "${match.word}" is not a valid platform (use os/arch[/variant], e.g. linux/amd64)`);
  return parsed;
}

export function planStages(
  ex: Expander,
  linter: Linter,
  global: GlobalArgs,
  stages: readonly StageDefinition[],
  names: SourceNames,
  request: LowerRequest,
): PlannedStage[] {
  return stages.map((definition) => {
    const from = definition.from;
    const match = expandDetailedAt(ex, from.node, from.image, global.env);
    reportUndefinedInFrom(linter, global, match.unmatched, from.node);
    if (match.word === '') throw instructionError(ex.source, from.node, `base name (${from.image}) should not be blank`);
    const platform = planPlatform(ex, linter, global, from, request.platform);
    // BuildKit prefixes every step of a multi-stage build with its stage ("stage-N" when unnamed, the last one too).
    const label = stages.length === 1 ? '' : definition.name ?? `stage-${definition.index}`;
    const replacedBy = definition.name === undefined ? undefined : names.namedContext(definition.name);
    let base: SourceRef;
    const name = match.word;
    const earlier = names.stageByName(name, definition.index);
    const context = names.namedContext(name);
    if (earlier !== undefined) base = { kind: 'stage', index: earlier.index };
    else if (name === 'scratch') base = { kind: 'scratch' };
    else if (context !== undefined) base = { kind: 'context', name, context };
    else base = { kind: 'image', ref: name };
    return { definition, label, base, platform, ...(replacedBy === undefined ? {} : { replacedBy }) };
  });
}

/** Stages each stage needs (FROM stage, COPY --from, RUN --mount from=), with the instruction that needs it. */
function stageEdges(ex: Expander, global: GlobalArgs, plan: PlannedStage, names: SourceNames): { to: number; node: InstructionNode }[] {
  const edges: { to: number; node: InstructionNode }[] = [];
  if (plan.base.kind === 'stage') edges.push({ to: plan.base.index, node: plan.definition.from.node });
  const add = (name: string, node: InstructionNode) => {
    const ref = names.resolveFrom(name, node);
    if (ref.kind === 'stage') edges.push({ to: ref.index, node });
  };
  for (const instr of plan.definition.instructions) {
    if ((instr.kind === 'copy' || instr.kind === 'add') && instr.from !== undefined) {
      let from = instr.from;
      try {
        from = expandWordDetailed(instr.from, global.env, ex.escapeChar, {}, false).word;
      } catch (err) {
        // Lowering reports the bad word with its position; here it just names no stage.
        if (!(err instanceof WordExpansionError)) throw err;
      }
      add(from, instr.node);
    } else if (instr.kind === 'run') {
      for (const m of instr.mounts) {
        let spec;
        try {
          spec = parseRunMount(m);
        } catch (err) {
          if (err instanceof InstructionProblem) throw instructionError(ex.source, instr.node, err.message);
          throw err;
        }
        if (spec.from !== undefined) add(spec.from, instr.node);
      }
    }
  }
  return edges;
}

/** BuildKit's "circular dependency detected on stage" check, positioned at the instruction closing the cycle. */
export function checkCycles(ex: Expander, global: GlobalArgs, plans: readonly PlannedStage[], names: SourceNames): void {
  const edges = plans.map((p) => (p.replacedBy === undefined ? stageEdges(ex, global, p, names) : []));
  const visited = new Set<number>();
  const onPath = new Set<number>();
  const visit = (i: number): { node: InstructionNode } | undefined => {
    if (visited.has(i)) return undefined;
    visited.add(i);
    onPath.add(i);
    for (const edge of edges[i]!) {
      if (onPath.has(edge.to)) return { node: edge.node };
      const found = visit(edge.to);
      if (found !== undefined) return found;
    }
    onPath.delete(i);
    return undefined;
  };
  for (const plan of plans) {
    const found = visit(plan.definition.index);
    if (found !== undefined) {
      const name = plan.definition.name ?? `stage-${plan.definition.index}`;
      throw instructionError(ex.source, found.node, `circular dependency detected on stage: ${name}`);
    }
  }
}
