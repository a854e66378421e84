// Typed, validated Dockerfile instructions. Words stay unexpanded: expansion needs the ARG/ENV scope at dispatch time.
import type { HeredocNode, InstructionNode } from './ast.js';

interface Base {
  /** The AST node: location, original keyword casing, text. */
  readonly node: InstructionNode;
}

/** An ENV or LABEL pair; `legacy` for the whitespace-separated `ENV key value` form. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly legacy: boolean;
}

/** One name of an ARG instruction; `value` is the raw default, if any. */
export interface ArgDefinition {
  readonly key: string;
  readonly value?: string;
}

export interface FromInstruction extends Base {
  readonly kind: 'from';
  readonly image: string;
  /** Lower-cased stage name. */
  readonly stageName?: string;
  /** The stage name as written, and the `AS` keyword as written (for checks). */
  readonly stageNameOriginal?: string;
  readonly asKeyword?: string;
  readonly platform?: string;
}

export interface RunInstruction extends Base {
  readonly kind: 'run';
  /** Shell form: one element, the command text. Exec form: the JSON array. */
  readonly command: readonly string[];
  readonly prependShell: boolean;
  readonly heredocs: readonly HeredocNode[];
  /** Raw `--mount` values, parsed against the scope when lowering. */
  readonly mounts: readonly string[];
  readonly network?: 'default' | 'none' | 'host';
  readonly security?: 'sandbox' | 'insecure';
}

export interface CommandLineInstruction extends Base {
  readonly kind: 'cmd' | 'entrypoint';
  readonly command: readonly string[];
  readonly prependShell: boolean;
}

export interface KeyValueInstruction extends Base {
  readonly kind: 'env' | 'label';
  readonly pairs: readonly KeyValue[];
}

export interface MaintainerInstruction extends Base {
  readonly kind: 'maintainer';
  readonly maintainer: string;
}

export interface ExposeInstruction extends Base {
  readonly kind: 'expose';
  readonly ports: readonly string[];
}

/** A heredoc used as a COPY/ADD source (`COPY <<EOF /dest`). */
export interface SourceContent {
  readonly name: string;
  readonly data: string;
  readonly expand: boolean;
}

export interface CopyInstruction extends Base {
  readonly kind: 'copy' | 'add';
  readonly sources: readonly string[];
  readonly contents: readonly SourceContent[];
  readonly dest: string;
  /** COPY --from. */
  readonly from?: string;
  readonly chown?: string;
  readonly chmod?: string;
  readonly link: boolean;
  readonly parents: boolean;
  readonly exclude: readonly string[];
  /** ADD only. */
  readonly keepGitDir: boolean;
  readonly checksum?: string;
  readonly unpack?: boolean;
}

export interface VolumeInstruction extends Base {
  readonly kind: 'volume';
  readonly volumes: readonly string[];
}

export interface WordInstruction extends Base {
  readonly kind: 'user' | 'workdir' | 'stopsignal';
  readonly word: string;
}

export interface ArgInstruction extends Base {
  readonly kind: 'arg';
  readonly args: readonly ArgDefinition[];
}

export interface OnbuildInstruction extends Base {
  readonly kind: 'onbuild';
  /** The trigger as written, stored in the image config's OnBuild. */
  readonly expression: string;
}

export interface HealthcheckInstruction extends Base {
  readonly kind: 'healthcheck';
  /** ["NONE"], ["CMD", ...args] or ["CMD-SHELL", command]. */
  readonly test: readonly string[];
  /** Nanoseconds; absent when not given. */
  readonly interval?: number;
  readonly timeout?: number;
  readonly startPeriod?: number;
  readonly startInterval?: number;
  readonly retries?: number;
}

export interface ShellInstruction extends Base {
  readonly kind: 'shell';
  readonly shell: readonly string[];
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CommandLineInstruction
  | KeyValueInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | CopyInstruction
  | VolumeInstruction
  | WordInstruction
  | ArgInstruction
  | OnbuildInstruction
  | HealthcheckInstruction
  | ShellInstruction;

/** Every instruction a stage can hold (FROM starts a stage and is not one of them). */
export type StageInstruction = Exclude<Instruction, FromInstruction>;

export const INSTRUCTION_KEYWORDS: readonly string[] = [
  'add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label',
  'maintainer', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir',
];
