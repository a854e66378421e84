// Stages the target does not need, as placeholder vertices for the graph picture (they are never lowered or run).
import { parseDockerfile } from '../frontend/index.js';
import { makeVertex } from '../llb/digest.js';
import type { Vertex } from '../llb/types.js';

function stagesOf(root: Vertex): Set<string> {
  const seen = new Set<string>();
  const stages = new Set<string>();
  const walk = (vertex: Vertex): void => {
    if (seen.has(vertex.digest + (vertex.stage ?? ''))) return;
    seen.add(vertex.digest + (vertex.stage ?? ''));
    if (vertex.stage !== undefined) stages.add(vertex.stage.toLowerCase());
    vertex.inputs.forEach(walk);
  };
  walk(root);
  return stages;
}

/** One vertex per stage of the Dockerfile that the built graph under `root` does not contain. */
export function prunedStageVertices(dockerfile: string, file: string, root: Vertex): Vertex[] {
  const built = stagesOf(root);
  const froms = parseDockerfile(dockerfile, file).children.filter((node) => node.keyword === 'from');
  const pruned: Vertex[] = [];
  froms.forEach((node, index) => {
    const [image = '', as, name] = node.args;
    const id = as?.toLowerCase() === 'as' && name ? name.toLowerCase() : String(index);
    if (built.has(id)) return;
    pruned.push(
      makeVertex({ kind: 'source-scratch' }, [], `FROM ${image} (not needed for the target: not built)`, {
        stage: id,
        location: { file, startLine: node.startLine, endLine: node.endLine },
      }),
    );
  });
  return pruned;
}
