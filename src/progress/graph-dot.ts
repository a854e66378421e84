// The build graph as Graphviz DOT (`kiln build --print graph=dot`): one cluster per stage, nodes coloured by outcome.
import type { Vertex } from '../llb/index.js';

/** What happened to a vertex in a build; a vertex with no state is drawn plain (the graph before a build). */
export type VertexState = 'cached' | 'executed' | 'pruned' | 'failed';

const NODE_STYLE: Record<VertexState, string> = {
  cached: 'style="rounded,filled", fillcolor="#e0e0e0", color="#808080"',
  executed: 'style="rounded,filled", fillcolor="#c8e6c9", color="#2e7d32"',
  failed: 'style="rounded,filled,bold", fillcolor="#ffcdd2", color="#c62828"',
  pruned: 'style="rounded,dashed", color="#9e9e9e", fontcolor="#9e9e9e"',
};

/** Longest node label; RUN lines and heredocs can be far longer than a node should be wide. */
const LABEL_LIMIT = 80;

function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function labelOf(name: string): string {
  const flat = name.replace(/\s+/g, ' ').trim();
  return flat.length > LABEL_LIMIT ? `${flat.slice(0, LABEL_LIMIT - 1)}…` : flat;
}

/** Every vertex reachable from `roots`, inputs before their consumers; a digest is visited once. */
function inputsFirst(roots: readonly Vertex[]): Vertex[] {
  const seen = new Set<string>();
  const order: Vertex[] = [];
  const visit = (vertex: Vertex): void => {
    if (seen.has(vertex.digest)) return;
    seen.add(vertex.digest);
    for (const input of vertex.inputs) visit(input);
    order.push(vertex);
  };
  for (const root of roots) visit(root);
  return order;
}

/**
 * Graphviz DOT for the graph under `roots`: edges go input → consumer, one `cluster_<n>` per `Vertex.stage`
 * (numbered in order of first appearance), vertices without a stage (build contexts) outside any cluster.
 * Pass the target's root first, then the roots of stages the build pruned, marked 'pruned' in `states`,
 * to draw them dashed. Identical vertices share a digest and so one node, in the stage where first met.
 * Output is deterministic: same graph and states, same bytes.
 */
export function graphToDot(roots: readonly Vertex[], states: ReadonlyMap<string, VertexState> = new Map()): string {
  const vertices = inputsFirst(roots);
  const node = (vertex: Vertex): string => {
    const state = states.get(vertex.digest);
    const style = state === undefined ? '' : `, ${NODE_STYLE[state]}`;
    return `${quote(vertex.digest)} [label=${quote(labelOf(vertex.name))}${style}];`;
  };

  const stages = new Map<string, Vertex[]>();
  const loose: Vertex[] = [];
  for (const vertex of vertices) {
    if (vertex.stage === undefined) {
      loose.push(vertex);
      continue;
    }
    const members = stages.get(vertex.stage) ?? [];
    members.push(vertex);
    stages.set(vertex.stage, members);
  }

  const lines = ['digraph build {', '  node [shape=box, style=rounded, fontname="Helvetica"];', '  edge [color="#606060"];'];
  for (const vertex of loose) lines.push(`  ${node(vertex)}`);
  [...stages].forEach(([stage, members], index) => {
    lines.push(`  subgraph cluster_${index} {`, `    label=${quote(/^\d+$/.test(stage) ? `stage ${stage}` : stage)};`);
    for (const vertex of members) lines.push(`    ${node(vertex)}`);
    lines.push('  }');
  });

  const edges = new Set<string>();
  for (const vertex of vertices) {
    for (const input of vertex.inputs) {
      const pruned = states.get(input.digest) === 'pruned' || states.get(vertex.digest) === 'pruned';
      edges.add(`  ${quote(input.digest)} -> ${quote(vertex.digest)}${pruned ? ' [style=dashed]' : ''};`);
    }
  }
  lines.push(...edges, '}');
  return `${lines.join('\n')}\n`;
}
