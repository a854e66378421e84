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

/** A node of the picture: one per digest and stage, so an op shared by two stages shows in both. */
interface DotNode {
  readonly id: string;
  readonly vertex: Vertex;
}

const keyOf = (vertex: Vertex): string => `${vertex.stage ?? ''}\0${vertex.digest}`;

/** Every node reachable from `roots`, inputs before their consumers, numbered in that order. */
function inputsFirst(roots: readonly Vertex[]): DotNode[] {
  const seen = new Set<string>();
  const order: DotNode[] = [];
  const visit = (vertex: Vertex): void => {
    if (seen.has(keyOf(vertex))) return;
    seen.add(keyOf(vertex));
    for (const input of vertex.inputs) visit(input);
    order.push({ id: `n${order.length}`, vertex });
  };
  for (const root of roots) visit(root);
  return order;
}

/**
 * Graphviz DOT for the graph under `roots`: edges go input → consumer, one `cluster_<n>` per `Vertex.stage`
 * (in dependency order: a stage comes after the stages it uses), vertices without a stage (build contexts)
 * outside any cluster. Nodes are `n0`, `n1`, … with the vertex digest as tooltip; a vertex shared by two stages
 * (the same `FROM` in both) is drawn in each. Pass the target's root first, then the roots of stages the build
 * pruned, marked 'pruned' in `states`, to draw them dashed. Same graph and states, same bytes.
 */
export function graphToDot(roots: readonly Vertex[], states: ReadonlyMap<string, VertexState> = new Map()): string {
  const nodes = inputsFirst(roots);
  const idOf = new Map(nodes.map((node) => [keyOf(node.vertex), node.id]));
  const declare = ({ id, vertex }: DotNode): string => {
    const state = states.get(vertex.digest);
    const style = state === undefined ? '' : `, ${NODE_STYLE[state]}`;
    return `${id} [label=${quote(labelOf(vertex.name))}, tooltip=${quote(vertex.digest)}${style}];`;
  };

  // Insertion order of a Map is first appearance; re-inserting on every member moves a stage after its last one.
  const stages = new Map<string, DotNode[]>();
  const loose: DotNode[] = [];
  for (const node of nodes) {
    const stage = node.vertex.stage;
    if (stage === undefined) {
      loose.push(node);
      continue;
    }
    const members = stages.get(stage) ?? [];
    members.push(node);
    stages.delete(stage);
    stages.set(stage, members);
  }

  const lines = ['digraph build {', '  node [shape=box, style=rounded, fontname="Helvetica"];', '  edge [color="#606060"];'];
  for (const node of loose) lines.push(`  ${declare(node)}`);
  [...stages].forEach(([stage, members], index) => {
    lines.push(`  subgraph cluster_${index} {`, `    label=${quote(/^\d+$/.test(stage) ? `stage ${stage}` : stage)};`);
    for (const node of members) lines.push(`    ${declare(node)}`);
    lines.push('  }');
  });

  const edges = new Set<string>();
  for (const { id, vertex } of nodes) {
    for (const input of vertex.inputs) {
      const pruned = states.get(input.digest) === 'pruned' || states.get(vertex.digest) === 'pruned';
      edges.add(`  ${idOf.get(keyOf(input)) ?? ''} -> ${id}${pruned ? ' [style=dashed]' : ''};`);
    }
  }
  lines.push(...edges, '}');
  return `${lines.join('\n')}\n`;
}
