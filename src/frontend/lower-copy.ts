// COPY and ADD → one `file` op: copies from the context (or --from source) and heredoc files written in place.
import { posix } from 'node:path';
import { makeVertex, type FileAction, type Vertex } from '../llb/index.js';
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

export async function lowerCopy(ctx: BuildContext, st: StageState, instr: CopyInstruction): Promise<void> {
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
  const cwd = st.config.WorkingDir ?? '/';
  const dest = destinationPath(cwd, destWritten);
  const chownSpec = chown === undefined || chown === '' ? undefined : parseChown(chown);

  let inputs: readonly Vertex[] = [st.root];
  const actions: FileAction[] = [];
  if (sources.length > 0) {
    let source: Vertex;
    if (instr.from === undefined) {
      source = ctx.contextVertex();
      reportIgnored(ctx, instr, sources);
    } else {
      const from = expandAt(ctx.ex, node, instr.from, ctx.global.env);
      source = await ctx.sourceVertex(ctx.resolveFromName(from, node), node, st.label);
    }
    inputs = [st.root, source];
    actions.push({
      kind: 'copy',
      source: 1,
      src: sources,
      dest,
      // Absent options stay undefined rather than spread in: one object shape for every copy (the digest drops undefined).
      chown: chownSpec,
      chmod,
      exclude,
      parents: instr.parents,
      link: instr.link,
      unpackArchives: instr.kind === 'add' && instr.from === undefined ? (instr.unpack ?? true) : false,
    });
  }
  const madeDirs = new Set<string>();
  for (const content of instr.contents) {
    const path = dest.endsWith('/') ? `${dest}${content.name}` : dest;
    const dir = posix.dirname(path);
    if (dir !== '/' && !madeDirs.has(dir)) {
      madeDirs.add(dir);
      actions.push({ kind: 'mkdir', path: dir, mode: 0o755, makeParents: true, chown: chownSpec });
    }
    const data = content.expand ? expandAt({ ...ctx.ex, escapeChar: '\\' }, node, content.data, env, { skipProcessQuotes: true }) : content.data;
    const mode = chmod !== undefined && /^[0-7]+$/.test(chmod) ? parseInt(chmod, 8) : 0o644;
    if (chmod !== undefined && !/^[0-7]+$/.test(chmod)) fail(`${cmd} of a heredoc supports only an octal --chmod, not ${JSON.stringify(chmod)}`);
    actions.push({ kind: 'mkfile', path, mode, data, chown: chownSpec });
  }

  const name = st.steps.next(displayText(node, env, ctx.ex.escapeChar), st.onbuild);
  // slice(): the op keeps an exactly sized copy, not the pushed-to array and its spare capacity.
  const vertex = makeVertex({ kind: 'file', actions: actions.slice() }, inputs, name, { location: locationOfNode(ctx.ex.source.file, node), stage: stageId(st) });
  st.root = vertex;
  let message = cmd;
  if (instr.from !== undefined) message += ` --from=${instr.from}`;
  if (instr.parents) message += ' --parents';
  if (chown !== undefined) message += ` --chown=${chown}`;
  if (chmod !== undefined) message += ` --chmod=${chmod}`;
  for (const src of sources) message += ` ${src}`;
  for (const content of instr.contents) message += ` <<${content.name}`;
  commitLayerStep(st, `${message} ${destWritten} # buildkit`, vertex);
}
