// Dockerfile stages → the target's graph and image config. Only stages the target reaches are lowered (and resolved).
import { ExcludeMatcher } from '../disk/index.js';
import { UsageError } from '../errors.js';
import { makeVertex, renameVertex, type ImageRuntimeConfig, type StageImage, type Vertex } from '../llb/index.js';
import type { InstructionNode } from './ast.js';
import { evaluateMetaArgs, unusedBuildArgs, type GlobalArgs } from './args.js';
import type { Linter } from './checks-linter.js';
import { checkSecretKey } from './lower-config.js';
import { instructionError } from './instructions-error.js';
import type { Expander } from './instructions-expand.js';
import { suggestClosest, withSuggestion } from './instructions-suggest.js';
import { normalizeReference } from './lower-names.js';
import { resolveImageAt } from './lower-resolve.js';
import { checkCycles, planStages, SourceNames, type PlannedStage } from './lower-plan.js';
import { lowerStage } from './lower-stage.js';
import type { BuildContext, LoweredStage, LowerRequest, SourceRef } from './lower-state.js';
import { platformArgs } from './platform.js';
import { duplicateStage, type ParsedDockerfile } from './stage.js';

export interface LowerOptions {
  readonly target?: string;
  /** `--check`: lower every stage (so every check runs), and report duplicate stage names instead of failing. */
  readonly allStages: boolean;
}

export interface LowerResult {
  readonly target: StageImage;
  /** --build-args that no ARG consumed. */
  readonly unusedBuildArgs: readonly string[];
}

/** Drop keys whose value is undefined, so the config serializes the way it reads. */
function tidyConfig(config: ImageRuntimeConfig): ImageRuntimeConfig {
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) as ImageRuntimeConfig;
}

function undefinedVarReporter(linter: Linter): Expander['onUnmatched'] {
  return (node, names, env) => {
    for (const name of names) {
      const match = suggestClosest(name, env.keys());
      linter.reportAt('UndefinedVar', `Usage of undefined variable '$${name}'${match === undefined ? '' : ` (did you mean $${match}?)`}`, node);
    }
  };
}

export async function lowerDockerfile(
  parsed: ParsedDockerfile,
  request: LowerRequest,
  linter: Linter,
  options: LowerOptions,
): Promise<LowerResult> {
  const ast = parsed.ast;
  const ex: Expander = { source: ast, escapeChar: ast.escapeChar };
  const global: GlobalArgs = evaluateMetaArgs(ex, parsed.metaArgs, platformArgs(request.platform, request.platform), request.buildArgs);
  const consumedArgs = new Set<string>(global.declared);
  for (const meta of parsed.metaArgs) for (const arg of meta.args) checkSecretKey(linter, 'ARG', arg.key, meta.node);

  if (!options.allStages) {
    const dup = duplicateStage(parsed.stages);
    if (dup !== undefined) throw instructionError(ast, dup.from.node, `duplicate stage name ${JSON.stringify(dup.name)}, stage names should be unique`);
  }
  const names = new SourceNames(parsed.stages, request.namedContexts, ast);
  const plans: PlannedStage[] = planStages(ex, linter, global, parsed.stages, names, request);
  checkCycles(ex, global, plans, names);

  let targetIndex = parsed.stages.length - 1;
  if (options.target !== undefined && options.target !== '') {
    const stage = names.stageByName(options.target);
    if (stage === undefined) {
      const known = parsed.stages.flatMap((s) => (s.name === undefined ? [] : [s.name]));
      throw new UsageError(withSuggestion(`target stage ${JSON.stringify(options.target)} could not be found`, options.target, known));
    }
    targetIndex = stage.index;
  }

  const lowered = new Map<number, Promise<LoweredStage>>();
  const active = new Set<number>();
  let contextVertex: Vertex | undefined;
  let ignoreMatcher: ExcludeMatcher | undefined;
  const localContexts = new Map<string, Vertex>();

  // One op (and digest) per image; each instruction that reads it gets a vertex with its own name and line.
  const imageVertices = new Map<string, Vertex>();
  const imageSource = (ref: string, node: InstructionNode, stageLabel: string): Vertex => {
    const name = `[${stageLabel || 'internal'}] FROM ${normalizeReference(ref)}`;
    const meta = { location: { file: ast.file, startLine: node.startLine, endLine: node.endLine } };
    const known = imageVertices.get(ref);
    if (known !== undefined) return renameVertex(known, name, meta);
    const vertex = makeVertex({ kind: 'source-image', ref, platform: request.platform }, [], name, meta);
    imageVertices.set(ref, vertex);
    return vertex;
  };

  const ctx: BuildContext = {
    parsed,
    request,
    ex: { ...ex, onUnmatched: undefinedVarReporter(linter) },
    linter,
    global,
    consumedArgs,
    isIgnored(path: string): boolean {
      if (request.contextExcludes.length === 0) return false;
      ignoreMatcher ??= new ExcludeMatcher(request.contextExcludes);
      return ignoreMatcher.isExcluded(path.replace(/^\/+/, ''));
    },
    contextVertex(): Vertex {
      contextVertex ??= makeVertex({ kind: 'source-local', name: 'context', exclude: request.contextExcludes }, [], '[internal] load build context');
      return contextVertex;
    },
    stage(index: number, requestedBy: InstructionNode): Promise<LoweredStage> {
      const done = lowered.get(index);
      if (done !== undefined) {
        if (active.has(index)) {
          const name = parsed.stages[index]!.name ?? `stage-${index}`;
          throw instructionError(ast, requestedBy, `circular dependency detected on stage: ${name}`);
        }
        return done;
      }
      active.add(index);
      const promise = lowerPlanned(ctx, plans[index]!).finally(() => active.delete(index));
      lowered.set(index, promise);
      return promise;
    },
    async sourceVertex(ref: SourceRef, node: InstructionNode, stageLabel: string): Promise<Vertex> {
      switch (ref.kind) {
        case 'stage':
          return (await ctx.stage(ref.index, node)).root;
        case 'scratch':
          return makeVertex({ kind: 'source-scratch' }, [], 'scratch');
        case 'image':
          // Resolved like BuildKit does for any image it reads, so a misspelt stage name fails here, on its line.
          await resolveImageAt(ctx, ref.ref, request.platform, node);
          return imageSource(ref.ref, node, stageLabel);
        case 'context': {
          if (ref.context.kind === 'image') return imageSource(ref.context.ref, node, stageLabel);
          let vertex = localContexts.get(ref.name);
          if (vertex === undefined) {
            vertex = makeVertex({ kind: 'source-local', name: ref.name, exclude: [] }, [], `[internal] load build context ${ref.name}`);
            localContexts.set(ref.name, vertex);
          }
          return vertex;
        }
        default: {
          const never: never = ref;
          throw new Error(`unknown source ${String(never)}`);
        }
      }
    },
    resolveFromName: (name, node) => names.resolveFrom(name, node),
  };

  if (options.allStages) {
    for (const plan of plans) await ctx.stage(plan.definition.index, plan.definition.from.node);
  }
  const target = await ctx.stage(targetIndex, parsed.stages[targetIndex]!.from.node);
  return {
    target: {
      root: target.root,
      platform: target.platform,
      config: tidyConfig(target.config),
      history: target.history,
      ...(target.author === undefined ? {} : { author: target.author }),
    },
    unusedBuildArgs: unusedBuildArgs(request.buildArgs, consumedArgs),
  };
}

/** A stage replaced by a named context is only its source; every other stage is lowered instruction by instruction. */
async function lowerPlanned(ctx: BuildContext, plan: PlannedStage): Promise<LoweredStage> {
  if (plan.replacedBy === undefined) return lowerStage(ctx, plan);
  const name = plan.definition.name!;
  return lowerStage(ctx, { ...plan, base: { kind: 'context', name, context: plan.replacedBy }, definition: { ...plan.definition, instructions: [] } });
}
