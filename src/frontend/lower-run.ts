// RUN → an `exec` op on the stage root: shell or exec form, heredoc scripts, mounts, network and security.
import { posix } from 'node:path';
import { makeVertex, type RunMount, type Vertex } from '../llb/index.js';
import type { InstructionNode } from './ast.js';
import { instructionError, InstructionProblem } from './instructions-error.js';
import { expandAt } from './instructions-expand.js';
import { parseRunMount, type MountSpec } from './instructions-run-mount.js';
import type { RunInstruction } from './instructions.js';
import { shellOf, undeclaredProxyEnv } from './lower-config.js';
import { commitLayerStep } from './lower-layer.js';
import { displayText } from './lower-names.js';
import { absolutePath } from './lower-paths.js';
import { locationOfNode, stageId, type BuildContext, type StageState } from './lower-state.js';

/** `<<EOF` alone (the whole command is one heredoc). */
function isSingleHeredoc(command: string): boolean {
  return /^\d*<<-?\s*(["']?)[^"'\s]+\1$/.test(command.trim());
}

/** First line of a heredoc body, with "..." when there is more. */
function summarizeHeredoc(doc: string): string {
  const text = doc.trim();
  const eol = text.indexOf('\n');
  if (eol < 0) return text;
  // A CRLF line ending does not belong to the first line.
  return `${text.slice(0, eol > 0 && text.charCodeAt(eol - 1) === 0x0d ? eol - 1 : eol)}...`;
}

interface ExecParts {
  extraInputs: Vertex[];
  mounts: RunMount[];
  nameSuffix: string;
}

/** Heredoc RUN: a lone heredoc runs as a script (a shebang makes it a file on /dev/pipes), else the shell reads it. */
function heredocCommand(ctx: BuildContext, st: StageState, instr: RunInstruction, parts: ExecParts): string[] {
  const command = instr.command[0] ?? '';
  if (instr.command.length !== 1 || !instr.prependShell) {
    throw instructionError(ctx.ex.source, instr.node, `parsing produced an invalid run command: ${JSON.stringify(instr.command)}`);
  }
  const first = instr.heredocs[0]!;
  if (!isSingleHeredoc(command)) {
    let full = command;
    for (const doc of instr.heredocs) full += `\n${doc.content}${doc.name}`;
    return [full];
  }
  parts.nameSuffix = ` (${summarizeHeredoc(first.content)})`;
  if (!first.content.startsWith('#!')) return [first.content];
  const scratch = makeVertex({ kind: 'source-scratch' }, [], 'scratch');
  const script = makeVertex(
    { kind: 'file', actions: [{ kind: 'mkfile', path: `/${first.name}`, mode: 0o755, data: first.content }] },
    [scratch],
    'preparing inline document',
    { location: locationOfNode(ctx.ex.source.file, instr.node), stage: stageId(st) },
  );
  parts.extraInputs.push(script);
  parts.mounts.push({ kind: 'bind', target: '/dev/pipes', source: '/', from: parts.extraInputs.length, readwrite: false });
  return [posix.join('/dev/pipes/', first.name)];
}

async function mountOf(ctx: BuildContext, st: StageState, node: InstructionNode, spec: MountSpec, parts: ExecParts): Promise<RunMount> {
  const cwd = st.config.WorkingDir ?? '/';
  const fail = (reason: string): never => {
    throw instructionError(ctx.ex.source, node, reason);
  };
  const inputIndex = async (): Promise<number | undefined> => {
    let source: Vertex;
    if (spec.from === undefined) {
      if (spec.type !== 'bind') return undefined;
      source = ctx.contextVertex();
    } else {
      source = await ctx.sourceVertex(ctx.resolveFromName(spec.from, node), node, st.label);
    }
    parts.extraInputs.push(source);
    return parts.extraInputs.length;
  };
  const target = spec.target === undefined || spec.target === '' ? undefined : absolutePath(cwd, spec.target);
  switch (spec.type) {
    case 'bind': {
      const from = await inputIndex();
      return { kind: 'bind', target: target!, source: spec.source ?? '/', ...(from === undefined ? {} : { from }), readwrite: !spec.readonly };
    }
    case 'cache': {
      const from = await inputIndex();
      const namespace = ctx.request.buildArgs.BUILDKIT_CACHE_MOUNT_NS;
      const id = spec.id ?? target!;
      return {
        kind: 'cache',
        target: target!,
        id: namespace ? `${namespace}/${id}` : id,
        sharing: spec.sharing ?? 'shared',
        ...(from === undefined ? {} : { from }),
        source: spec.source ?? '/',
        mode: spec.mode ?? 0o755,
        uid: spec.uid ?? 0,
        gid: spec.gid ?? 0,
        readonly: spec.readonly,
      };
    }
    case 'tmpfs':
      return { kind: 'tmpfs', target: target!, ...(spec.sizeBytes === undefined ? {} : { sizeBytes: spec.sizeBytes }) };
    case 'secret': {
      const id = spec.id ?? spec.source ?? (target === undefined ? undefined : posix.basename(target));
      if (id === undefined || id === '') return fail('invalid secret mount: set id, source or target');
      const secretTarget = target ?? (spec.env === undefined ? `/run/secrets/${id}` : undefined);
      return {
        kind: 'secret',
        id,
        ...(secretTarget === undefined ? {} : { target: secretTarget }),
        ...(spec.env === undefined ? {} : { env: spec.env }),
        required: spec.required,
        mode: spec.mode ?? 0o400,
        uid: spec.uid ?? 0,
        gid: spec.gid ?? 0,
      };
    }
    case 'ssh':
      return { kind: 'ssh', id: spec.id ?? 'default', ...(target === undefined ? {} : { target }), required: spec.required };
    default: {
      const never: never = spec.type;
      return fail(`unsupported mount type ${String(never)}`);
    }
  }
}

/** The env with proxies, per env list: consecutive RUNs share one array, so its digest is computed once. */
const withProxies = new WeakMap<readonly string[], { readonly proxies: string; readonly env: readonly string[] }>();

function withProxyEnv(env: readonly string[], proxies: readonly string[]): readonly string[] {
  if (proxies.length === 0) return env;
  const key = proxies.join('\n');
  const cached = withProxies.get(env);
  if (cached !== undefined && cached.proxies === key) return cached.env;
  const combined = [...env, ...proxies];
  withProxies.set(env, { proxies: key, env: combined });
  return combined;
}

const NO_MOUNTS: readonly RunMount[] = Object.freeze([]);

/** The command of a RUN (worked out before its mounts, which may add inputs after a heredoc script's). */
interface RunCommand {
  readonly args: readonly string[];
  /** What the history step shows after the ARGs prefix. */
  readonly history: string;
}

function runCommand(ctx: BuildContext, st: StageState, instr: RunInstruction, parts: ExecParts): RunCommand {
  // The exec form's words as parsed (ops are immutable, so the op can share them), or the shell and one command.
  const args: readonly string[] = instr.heredocs.length > 0 ? heredocCommand(ctx, st, instr, parts) : instr.command;
  const command = args.join(' ');
  if (!instr.prependShell) return { args, history: command };
  const shell = shellOf(st);
  return {
    // Sized exactly (a push would leave spare capacity in every op for the life of the build).
    args: shell.length === 2 ? [shell[0]!, shell[1]!, command] : [...shell, command],
    history: `${shell.join(' ')} ${command}`,
  };
}

async function addMounts(ctx: BuildContext, st: StageState, instr: RunInstruction, parts: ExecParts): Promise<void> {
  const { node } = instr;
  const env = st.scope.env;
  for (const raw of instr.mounts) {
    let spec: MountSpec;
    try {
      spec = parseRunMount(raw, (word) => expandAt(ctx.ex, node, word, env));
    } catch (err) {
      if (err instanceof InstructionProblem) throw instructionError(ctx.ex.source, node, err.message);
      throw err;
    }
    parts.mounts.push(await mountOf(ctx, st, node, spec, parts));
  }
}

function emitRun(ctx: BuildContext, st: StageState, instr: RunInstruction, command: RunCommand, parts: ExecParts): void {
  const { node } = instr;
  const name = st.steps.next(displayText(node, st.scope.env, ctx.ex.escapeChar) + parts.nameSuffix, st.onbuild);
  const vertex = makeVertex(
    {
      kind: 'exec',
      args: command.args,
      env: withProxyEnv(st.scope.envList(), undeclaredProxyEnv(ctx, st)),
      cwd: st.config.WorkingDir || '/',
      user: st.config.User ?? '',
      network: instr.network ?? 'default',
      security: instr.security ?? 'sandbox',
      mounts: parts.mounts.length === 0 ? NO_MOUNTS : parts.mounts.slice(),
    },
    parts.extraInputs.length === 0 ? [st.root] : [st.root, ...parts.extraInputs],
    name,
    { location: locationOfNode(ctx.ex.source.file, node), stage: stageId(st) },
  );
  st.root = vertex;
  commitLayerStep(st, `RUN ${st.scope.argsHistoryPrefix()}${command.history} # buildkit`, vertex);
}

/** RUN. Only one with --mount can wait (for the stage or image it mounts): the others are lowered without a promise. */
export function lowerRun(ctx: BuildContext, st: StageState, instr: RunInstruction): Promise<void> | void {
  const parts: ExecParts = { extraInputs: [], mounts: [], nameSuffix: '' };
  const command = runCommand(ctx, st, instr, parts);
  if (instr.mounts.length === 0) return emitRun(ctx, st, instr, command, parts);
  return addMounts(ctx, st, instr, parts).then(() => emitRun(ctx, st, instr, command, parts));
}
