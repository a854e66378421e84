// The state threaded through lowering: per build (context) and per stage (root, config, history, scope).
import type { HistoryStep, ImageMetaResolver, ImageRuntimeConfig, Platform, SourceLocation, Vertex } from '../llb/index.js';
import type { InstructionNode } from './ast.js';
import type { GlobalArgs } from './args.js';
import type { Linter } from './checks-linter.js';
import type { Expander } from './instructions-expand.js';
import type { StepCounter } from './lower-names.js';
import type { StageScope } from './scope.js';
import type { ParsedDockerfile, StageDefinition } from './stage.js';

export type NamedContext = { readonly kind: 'local' } | { readonly kind: 'image'; readonly ref: string };

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type MutableConfig = Mutable<ImageRuntimeConfig>;

/** What a `--from`, a mount `from=` or a FROM base name points at. */
export type SourceRef =
  | { readonly kind: 'stage'; readonly index: number }
  | { readonly kind: 'context'; readonly name: string; readonly context: NamedContext }
  | { readonly kind: 'image'; readonly ref: string }
  | { readonly kind: 'scratch' };

/** A lowered stage: what the next stage (or the build result) starts from. */
export interface LoweredStage {
  readonly root: Vertex;
  readonly platform: Platform;
  readonly config: ImageRuntimeConfig;
  readonly history: readonly HistoryStep[];
  readonly scope: StageScope;
  /** A WORKDIR was set in this Dockerfile (WorkdirRelativePath only looks at the first one). */
  readonly workdirSet: boolean;
  readonly author?: string;
}

export interface LowerRequest {
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly platform: Platform;
  readonly resolver: ImageMetaResolver;
  readonly contextExcludes: readonly string[];
  readonly namedContexts: Readonly<Record<string, NamedContext>>;
}

/** Shared by every stage of one build. */
export interface BuildContext {
  readonly parsed: ParsedDockerfile;
  readonly request: LowerRequest;
  readonly ex: Expander;
  readonly linter: Linter;
  readonly global: GlobalArgs;
  /** ARG names declared anywhere that was lowered (for the unused --build-arg warning). */
  readonly consumedArgs: Set<string>;
  /** Whether a context path is excluded by .dockerignore (CopyIgnoredFile). */
  isIgnored(path: string): boolean;
  /** The one build-context vertex of this build. */
  contextVertex(): Vertex;
  /** Lower (once) and return a stage. */
  stage(index: number, requestedBy: InstructionNode): Promise<LoweredStage>;
  /** A vertex for a `--from` / `from=` reference. */
  sourceVertex(ref: SourceRef, node: InstructionNode, stageLabel: string): Promise<Vertex>;
  /** Resolve a `--from` / `from=` name (already expanded). */
  resolveFromName(name: string, node: InstructionNode): SourceRef;
}

/** The mutable state of the stage being lowered. */
export interface StageState {
  readonly definition: StageDefinition;
  /** "build", "stage-1", or "" for the last unnamed stage. */
  readonly label: string;
  readonly steps: StepCounter;
  root: Vertex;
  readonly platform: Platform;
  config: MutableConfig;
  readonly history: HistoryStep[];
  readonly scope: StageScope;
  workdirSet: boolean;
  /** CMD seen in this stage (ENTRYPOINT only resets a CMD inherited from the base). */
  cmdSet: boolean;
  /** Last CMD / ENTRYPOINT / HEALTHCHECK of this stage, for MultipleInstructionsDisallowed. */
  readonly seenOnce: Map<string, InstructionNode>;
  /** Currently running an ONBUILD trigger. */
  onbuild: boolean;
  /** MAINTAINER, or the base image's author. */
  author?: string;
}

export function locationOfNode(file: string, node: InstructionNode): SourceLocation {
  return { file, startLine: node.startLine, endLine: node.endLine };
}

/** The stage's identity on vertices: its name, or its index. */
export function stageId(state: StageState): string {
  return state.definition.name ?? String(state.definition.index);
}

export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
