// One stage: start from its base (image, stage, scratch or named context), run ONBUILD triggers, then each instruction.
import { makeVertex, type HistoryStep, type ImageRuntimeConfig, type Platform, type Vertex } from '../llb/index.js';
import type { InstructionNode } from './ast.js';
import { DockerfileError } from './dockerfile-error.js';
import { instructionError } from './instructions-error.js';
import type { StageInstruction } from './instructions.js';
import {
  lowerArg,
  lowerCommandLine,
  lowerEnvOrLabel,
  lowerExpose,
  lowerHealthcheck,
  lowerMaintainer,
  lowerOnbuild,
  lowerShell,
  lowerVolume,
  lowerWordConfig,
} from './lower-config.js';
import { lowerCopy } from './lower-copy.js';
import { normalizeReference, StepCounter } from './lower-names.js';
import { resolveImageAt } from './lower-resolve.js';
import { lowerRun } from './lower-run.js';
import {
  DEFAULT_PATH,
  locationOfNode,
  type BuildContext,
  type LoweredStage,
  type MutableConfig,
  type SourceRef,
  type StageState,
} from './lower-state.js';
import { lowerWorkdir } from './lower-workdir.js';
import { parseDockerfile } from './parser.js';
import { splitEnvEntry, StageScope } from './scope.js';
import { parseNodeAt, type StageDefinition } from './stage.js';

/** What the orchestrator worked out for a stage before lowering it. */
export interface StagePlan {
  readonly definition: StageDefinition;
  readonly label: string;
  readonly base: SourceRef;
  /** FROM --platform, else the build platform. */
  readonly platform: Platform;
}

interface StageStart {
  root: Vertex;
  config: MutableConfig;
  history: HistoryStep[];
  scope?: StageScope;
  workdirSet: boolean;
  author?: string;
}

function cloneConfig(config: ImageRuntimeConfig): MutableConfig {
  return structuredClone(config) as MutableConfig;
}

async function imageStart(ctx: BuildContext, plan: StagePlan, steps: StepCounter, ref: string): Promise<StageStart> {
  const node = plan.definition.from.node;
  const resolved = await resolveImageAt(ctx, ref, plan.platform, node);
  const root = makeVertex({ kind: 'source-image', ref, platform: plan.platform }, [], steps.next(`FROM ${normalizeReference(ref)}`), {
    location: locationOfNode(ctx.ex.source.file, node),
    stage: plan.definition.name ?? String(plan.definition.index),
  });
  return {
    root,
    config: cloneConfig(resolved.config),
    history: [...resolved.history],
    workdirSet: false,
    ...(resolved.author === undefined ? {} : { author: resolved.author }),
  };
}

async function stageStart(ctx: BuildContext, plan: StagePlan, steps: StepCounter): Promise<StageStart> {
  const base = plan.base;
  const node = plan.definition.from.node;
  switch (base.kind) {
    case 'scratch':
      return { root: makeVertex({ kind: 'source-scratch' }, [], 'scratch'), config: {}, history: [], workdirSet: false };
    case 'image':
      return imageStart(ctx, plan, steps, base.ref);
    case 'context':
      if (base.context.kind === 'image') return imageStart(ctx, plan, steps, base.context.ref);
      return { root: await ctx.sourceVertex(base, node, plan.label), config: {}, history: [], workdirSet: false };
    case 'stage': {
      const parent: LoweredStage = await ctx.stage(base.index, node);
      return {
        root: parent.root,
        config: cloneConfig(parent.config),
        history: [...parent.history],
        scope: parent.scope.clone(),
        workdirSet: parent.workdirSet,
        ...(parent.author === undefined ? {} : { author: parent.author }),
      };
    }
    default: {
      const never: never = base;
      throw new Error(`unknown base ${String(never)}`);
    }
  }
}

const STEP_KINDS: ReadonlySet<string> = new Set(['run', 'copy', 'add', 'workdir']);

function countSteps(plan: StagePlan): number {
  const fromImage = plan.base.kind === 'image' || (plan.base.kind === 'context' && plan.base.context.kind === 'image');
  let steps = fromImage ? 1 : 0;
  for (const i of plan.definition.instructions) if (STEP_KINDS.has(i.kind)) steps++;
  return steps;
}

/** Parse ONBUILD triggers of the base; they run at the FROM line's position, as in BuildKit. */
function triggerInstructions(ctx: BuildContext, from: InstructionNode, triggers: readonly string[]): StageInstruction[] {
  const source = ctx.ex.source;
  return triggers.map((trigger) => {
    let node: InstructionNode;
    try {
      const ast = parseDockerfile(trigger, source.file);
      if (ast.children.length !== 1) throw instructionError(source, from, 'onbuild trigger should be a single expression');
      node = { ...ast.children[0]!, startLine: from.startLine, endLine: from.endLine, column: from.column };
    } catch (err) {
      if (err instanceof DockerfileError && err.line !== from.startLine) {
        throw instructionError(source, from, `ONBUILD trigger ${JSON.stringify(trigger)} from the base image: ${err.reason}`);
      }
      throw err;
    }
    const instruction = parseNodeAt(source, node);
    if (instruction.kind === 'from') throw instructionError(source, from, "FROM isn't allowed as an ONBUILD trigger");
    return instruction;
  });
}

/** Lower one instruction; only RUN, COPY and ADD may wait (for another stage), the rest return synchronously. */
function dispatch(ctx: BuildContext, st: StageState, instr: StageInstruction): Promise<void> | void {
  switch (instr.kind) {
    case 'run':
      return lowerRun(ctx, st, instr);
    case 'copy':
    case 'add':
      return lowerCopy(ctx, st, instr);
    case 'workdir':
      return lowerWorkdir(ctx, st, instr);
    case 'user':
    case 'stopsignal':
      return lowerWordConfig(ctx, st, instr);
    case 'env':
    case 'label':
      return lowerEnvOrLabel(ctx, st, instr);
    case 'arg':
      return lowerArg(ctx, st, instr);
    case 'cmd':
    case 'entrypoint':
      return lowerCommandLine(ctx, st, instr);
    case 'expose':
      return lowerExpose(ctx, st, instr);
    case 'volume':
      return lowerVolume(ctx, st, instr);
    case 'healthcheck':
      return lowerHealthcheck(ctx, st, instr);
    case 'shell':
      return lowerShell(st, instr);
    case 'onbuild':
      return lowerOnbuild(st, instr);
    case 'maintainer':
      return lowerMaintainer(ctx, st, instr);
    default: {
      const never: never = instr;
      throw new Error(`unknown instruction ${String(never)}`);
    }
  }
}

export async function lowerStage(buildCtx: BuildContext, plan: StagePlan): Promise<LoweredStage> {
  // UndefinedVar ignores ARGs this stage declared without a value.
  let declared: StageScope | undefined;
  const report = buildCtx.ex.onUnmatched;
  const ctx: BuildContext = {
    ...buildCtx,
    ex: {
      ...buildCtx.ex,
      onUnmatched: (node, names, env) => {
        let undeclared: Set<string> | undefined;
        for (const n of names) {
          if (declared?.isDeclared(n) === true) continue;
          (undeclared ??= new Set()).add(n);
        }
        if (undeclared !== undefined) report?.(node, undeclared, env);
      },
    },
  };
  const steps = new StepCounter(plan.label, countSteps(plan));
  const start = await stageStart(ctx, plan, steps);
  const config = start.config;
  // BuildKit makes sure PATH is always set, in the config and so in every RUN.
  if (!(config.Env ?? []).some((e) => splitEnvEntry(e)[0] === 'PATH')) config.Env = [...(config.Env ?? []), `PATH=${DEFAULT_PATH}`];
  let scope = start.scope;
  if (scope === undefined) {
    scope = new StageScope();
    for (const entry of config.Env ?? []) scope.setEnv(...splitEnvEntry(entry));
  }
  declared = scope;
  const triggers = config.OnBuild ?? [];
  config.OnBuild = undefined;
  const st: StageState = {
    definition: plan.definition,
    label: plan.label,
    steps,
    root: start.root,
    platform: plan.platform,
    config,
    history: start.history,
    scope,
    workdirSet: start.workdirSet,
    cmdSet: false,
    seenOnce: new Map(),
    onbuild: false,
    ...(start.author === undefined ? {} : { author: start.author }),
  };
  if (triggers.length > 0) {
    const instructions = triggerInstructions(ctx, plan.definition.from.node, triggers);
    steps.total += instructions.length;
    st.onbuild = true;
    for (const instr of instructions) await dispatch(ctx, st, instr);
    st.onbuild = false;
  }
  for (const instr of plan.definition.instructions) {
    const pending = dispatch(ctx, st, instr);
    if (pending !== undefined) await pending;
  }
  return {
    root: st.root,
    platform: st.platform,
    config: st.config,
    history: st.history,
    scope: st.scope,
    workdirSet: st.workdirSet,
    ...(st.author === undefined ? {} : { author: st.author }),
  };
}
