// COPY and ADD → one `file` op: copies from the context (or --from source) and heredoc files written in place.
import { posix } from 'node:path';
import { makeVertex, type ChownSpec, type FileAction, type Vertex } from '../llb/index.js';
import { instructionError } from './instructions-error.js';
import { expandAt } from './instructions-expand.js';
import type { CopyInstruction } from './instructions.js';
import { commitLayerStep } from './lower-layer.js';
import { displayText } from './lower-names.js';
import { chmodProblem, destinationPath, parseChown } from './lower-paths.js';
import { locationOfNode, stageId, type BuildContext, type StageState } from './lower-state.js';

function isGitSource(src: string): boolean {
  return /^(git:\/\/|git@|github\.com\/|ssh:\/\/)/.test(src) || /^https?:\/\/\S*\.git(#\S*)?$/.test(src);
}

function isUrlSource(src: string): boolean {
  return /^https?:\/\//.test(src);
}

const HAS_WILDCARD = /[*?[]/;

function reportIgnored(ctx: BuildContext, instr: CopyInstruction, sources: readonly string[]): void {
  if (!ctx.linter.enabled('CopyIgnoredFile')) return;
  const cmd = instr.kind === 'add' ? 'Add' : 'Copy';
  for (const src of sources) {
    if (ctx.isIgnored(src)) {
      ctx.linter.reportAt('CopyIgnoredFile', `Attempting to ${cmd} file ${JSON.stringify(src)} that is excluded by .dockerignore`, instr.node);
    }
  }
}

/** The expanded and checked words of a COPY or ADD. */
interface CopyWords {
  readonly cmd: 'ADD' | 'COPY';
  readonly sources: readonly string[];
  readonly destWritten: string;
  readonly dest: string;
  readonly chown?: string;
  readonly chownSpec?: ChownSpec;
  readonly chmod?: string;
  readonly exclude: readonly string[];
}

function copyWords(ctx: BuildContext, st: StageState, instr: CopyInstruction): CopyWords {
  const { node } = instr;
  const env = st.scope.env;
  const fail = (reason: string): never => {
    throw instructionError(ctx.ex.source, node, reason);
  };
  const word = (w: string) => expandAt(ctx.ex, node, w, env);
  const cmd = instr.kind === 'add' ? 'ADD' : 'COPY';
  const sources = instr.sources.map(word);
  const destWritten = word(instr.dest);
  const chown = instr.chown === undefined ? undefined : word(instr.chown);
  const chmod = instr.chmod === undefined ? undefined : word(instr.chmod);
  const exclude = instr.exclude.map(word);
  if (chmod !== undefined) {
    const problem = chmodProblem(chmod);
    if (problem !== undefined) fail(problem);
  }
  if (instr.checksum !== undefined) {
    if (instr.kind === 'copy') fail("checksum can't be specified for COPY");
    if (sources.length !== 1) fail("checksum can't be specified for multiple sources");
    if (!isUrlSource(sources[0]!)) fail("checksum can't be specified for non-HTTP(S) sources");
  }
  for (const src of sources) {
    if (isGitSource(src)) fail(instr.kind === 'add' ? `ADD from a git repository is not supported yet: ${src}` : "source can't be a git ref for COPY");
    if (isUrlSource(src)) fail(instr.kind === 'add' ? `ADD from a URL is not supported yet: ${src}` : "source can't be a URL for COPY");
  }
  const count = sources.length + instr.contents.length;
  if ((count > 1 || sources.some((s) => HAS_WILDCARD.test(s))) && !destWritten.endsWith('/')) {
    fail(`When using ${cmd} with more than one source file, the destination must be a directory and end with a /`);
  }
  const dest = destinationPath(st.config.WorkingDir ?? '/', destWritten);
  const chownSpec = chown === undefined || chown === '' ? undefined : parseChown(chown);
  return { cmd, sources, destWritten, dest, chown, chownSpec, chmod, exclude };
}

/** The file op (copy from `source`, then heredoc files) on the stage root, and its history step. */
function emitCopy(ctx: BuildContext, st: StageState, instr: CopyInstruction, words: CopyWords, source: Vertex | undefined): void {
  const { node } = instr;
  const { cmd, sources, dest, chown, chownSpec, chmod } = words;
  const actions: FileAction[] = [];
  if (source !== undefined) {
    actions.push({
      kind: 'copy',
      source: 1,
      src: sources,
      dest,
      // Absent options stay undefined rather than spread in: one object shape for every copy (the digest drops undefined).
      chown: chownSpec,
      chmod,
      exclude: words.exclude,
      parents: instr.parents,
      link: instr.link,
      unpackArchives: instr.kind === 'add' && instr.from === undefined ? (instr.unpack ?? true) : false,
    });
  }
  let madeDirs: Set<string> | undefined;
  for (const content of instr.contents) {
    const path = dest.endsWith('/') ? `${dest}${content.name}` : dest;
    const dir = posix.dirname(path);
    if (dir !== '/' && madeDirs?.has(dir) !== true) {
      (madeDirs ??= new Set()).add(dir);
      actions.push({ kind: 'mkdir', path: dir, mode: 0o755, makeParents: true, chown: chownSpec });
    }
    const data = content.expand
      ? expandAt({ ...ctx.ex, escapeChar: '\\' }, node, content.data, st.scope.env, { skipProcessQuotes: true })
      : content.data;
    const mode = chmod !== undefined && /^[0-7]+$/.test(chmod) ? parseInt(chmod, 8) : 0o644;
    if (chmod !== undefined && !/^[0-7]+$/.test(chmod)) {
      throw instructionError(ctx.ex.source, node, `${cmd} of a heredoc supports only an octal --chmod, not ${JSON.stringify(chmod)}`);
    }
    actions.push({ kind: 'mkfile', path, mode, data, chown: chownSpec });
  }

  const name = st.steps.next(displayText(node, st.scope.env, ctx.ex.escapeChar), st.onbuild);
  const inputs = source === undefined ? [st.root] : [st.root, source];
  // slice(): the op keeps an exactly sized copy, not the pushed-to array and its spare capacity.
  const vertex = makeVertex({ kind: 'file', actions: actions.slice() }, inputs, name, {
    location: locationOfNode(ctx.ex.source.file, node),
    stage: stageId(st),
  });
  st.root = vertex;
  let message: string = cmd;
  if (instr.from !== undefined) message += ` --from=${instr.from}`;
  if (instr.parents) message += ' --parents';
  if (chown !== undefined) message += ` --chown=${chown}`;
  if (chmod !== undefined) message += ` --chmod=${chmod}`;
  for (const src of sources) message += ` ${src}`;
  for (const content of instr.contents) message += ` <<${content.name}`;
  commitLayerStep(st, `${message} ${words.destWritten} # buildkit`, vertex);
}

/** COPY and ADD. Only one with --from can wait (for the stage or image it reads): the others are lowered without a promise. */
export function lowerCopy(ctx: BuildContext, st: StageState, instr: CopyInstruction): Promise<void> | void {
  const words = copyWords(ctx, st, instr);
  if (words.sources.length === 0) return emitCopy(ctx, st, instr, words, undefined);
  if (instr.from === undefined) {
    const source = ctx.contextVertex();
    reportIgnored(ctx, instr, words.sources);
    return emitCopy(ctx, st, instr, words, source);
  }
  const from = expandAt(ctx.ex, instr.node, instr.from, ctx.global.env);
  return ctx
    .sourceVertex(ctx.resolveFromName(from, instr.node), instr.node, st.label)
    .then((source) => emitCopy(ctx, st, instr, words, source));
}
