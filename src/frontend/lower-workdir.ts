// WORKDIR → the config's WorkingDir plus a `mkdir -p` file op (owned by USER when set), like BuildKit.
import { makeVertex } from '../llb/index.js';
import { expandAt } from './instructions-expand.js';
import type { WordInstruction } from './instructions.js';
import { commitConfigStep } from './lower-config.js';
import { displayText } from './lower-names.js';
import { normalizeWorkdir, parseChown } from './lower-paths.js';
import { locationOfNode, stageId, type BuildContext, type StageState } from './lower-state.js';

export function lowerWorkdir(ctx: BuildContext, st: StageState, instr: WordInstruction): void {
  const { node } = instr;
  const env = st.scope.env;
  const path = expandAt(ctx.ex, node, instr.word, env);
  if (!st.workdirSet && !path.startsWith('/')) {
    ctx.linter.reportAt('WorkdirRelativePath', `Relative workdir ${JSON.stringify(path)} can have unexpected results if the base image changes`, node);
  }
  st.workdirSet = true;
  const wd = normalizeWorkdir(st.config.WorkingDir ?? '/', path);
  st.config.WorkingDir = wd;
  if (wd === '/') {
    commitConfigStep(st, `WORKDIR ${wd}`);
    return;
  }
  const user = st.config.User;
  const vertex = makeVertex(
    {
      kind: 'file',
      actions: [{ kind: 'mkdir', path: wd, mode: 0o755, makeParents: true, chown: user ? parseChown(user) : undefined }],
    },
    [st.root],
    st.steps.next(displayText(node, env, ctx.ex.escapeChar), st.onbuild),
    { location: locationOfNode(ctx.ex.source.file, node), stage: stageId(st) },
  );
  st.root = vertex;
  st.history.push({ createdBy: `WORKDIR ${wd}`, comment: 'buildkit.dockerfile.v0', layerOf: vertex.digest });
}
