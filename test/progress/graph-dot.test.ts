import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { makeVertex, type Op, type Vertex } from '../../src/llb/index.js';
import { graphToDot, type VertexState } from '../../src/progress/graph-dot.js';
import { expectGolden } from './golden.js';

const platform = { os: 'linux', architecture: 'amd64' };

function run(command: string, root: Vertex, extra: readonly Vertex[], name: string, stage: string): Vertex {
  const op: Op = { kind: 'exec', args: ['/bin/sh', '-c', command], env: [], cwd: '/', user: 'root', network: 'default', security: 'sandbox', mounts: [] };
  return makeVertex(op, [root, ...extra], name, { stage });
}

function copy(root: Vertex, source: Vertex, src: string, name: string, stage: string): Vertex {
  const op: Op = {
    kind: 'file',
    actions: [{ kind: 'copy', source: 1, src: [src], dest: '/app/', exclude: [], parents: false, link: false, unpackArchives: false }],
  };
  return makeVertex(op, [root, source], name, { stage });
}

/** A two-stage build (builder → final) plus a stage the target does not need. */
function buildGraph(): { target: Vertex; pruned: Vertex; all: Record<string, Vertex> } {
  const context = makeVertex({ kind: 'source-local', name: 'context', exclude: [] }, [], 'load build context');
  const base = makeVertex({ kind: 'source-image', ref: 'busybox:latest', platform }, [], '[builder 1/3] FROM busybox', { stage: 'builder' });
  const src = copy(base, context, '.', '[builder 2/3] COPY . /app/', 'builder');
  const make = run('make "all"', src, [], '[builder 3/3] RUN make "all"', 'builder');
  const finalBase = makeVertex({ kind: 'source-image', ref: 'busybox:latest', platform }, [], '[stage-1 1/2] FROM busybox', { stage: '1' });
  const target = copy(finalBase, make, '/app/bin', '[stage-1 2/2] COPY --from=builder /app/bin /app/', '1');
  const testsBase = makeVertex({ kind: 'source-image', ref: 'alpine:3', platform }, [], '[tests 1/2] FROM alpine:3', { stage: 'tests' });
  const pruned = run('./run-tests', testsBase, [], '[tests 2/2] RUN ./run-tests', 'tests');
  return { target, pruned, all: { context, base, src, make, finalBase, target, testsBase, pruned } };
}

/** A parser for the DOT subset graphToDot writes: statements end in ";", attribute lists, clusters, edges. */
function checkDotSyntax(dot: string): { nodes: Set<string>; edges: Array<[string, string]> } {
  const tokens = dot.match(/"(?:[^"\\]|\\.)*"|->|[{}[\];=,]|[A-Za-z_][A-Za-z0-9_]*|#[0-9a-f]+|\S/g) ?? [];
  let at = 0;
  const peek = (): string => tokens[at] ?? '<end>';
  const take = (expected?: string): string => {
    const token = peek();
    if (expected !== undefined && token !== expected) throw new Error(`expected ${expected}, got ${token} at token ${at}`);
    at += 1;
    return token;
  };
  const isId = (token: string): boolean => /^("(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*)$/.test(token);
  const attrs = (): void => {
    take('[');
    while (peek() !== ']') {
      if (!isId(take())) throw new Error('attribute name expected');
      take('=');
      if (!isId(take())) throw new Error('attribute value expected');
      if (peek() === ',') take(',');
    }
    take(']');
  };
  const nodes = new Set<string>();
  const edges: Array<[string, string]> = [];
  const statements = (): void => {
    while (peek() !== '}') {
      const head = take();
      if (head === 'subgraph') {
        if (!/^cluster_\d+$/.test(take())) throw new Error('cluster name expected');
        take('{');
        statements();
        take('}');
        continue;
      }
      if (head === 'node' || head === 'edge') attrs();
      else if (peek() === '=') {
        take('=');
        if (!isId(take())) throw new Error('value expected');
      } else if (peek() === '->') {
        take('->');
        edges.push([head, take()]);
        if (peek() === '[') attrs();
      } else {
        if (!isId(head)) throw new Error(`node id expected, got ${head}`);
        nodes.add(head);
        if (peek() === '[') attrs();
      }
      take(';');
    }
  };
  take('digraph');
  take('build');
  take('{');
  statements();
  take('}');
  if (at !== tokens.length) throw new Error('text after the graph');
  return { nodes, edges };
}

describe('graphToDot', () => {
  it('draws stages as clusters, edges from input to consumer, and colours by outcome', () => {
    const { target, pruned, all } = buildGraph();
    const states = new Map<string, VertexState>([
      [all.base!.digest, 'cached'],
      [all.src!.digest, 'cached'],
      [all.make!.digest, 'executed'],
      [all.target!.digest, 'failed'],
      [all.testsBase!.digest, 'pruned'],
      [pruned.digest, 'pruned'],
    ]);
    expectGolden('graph.dot', graphToDot([target, pruned], states));
  });

  it('writes DOT that parses, with a node for every vertex and every edge between declared nodes', () => {
    const { target, pruned, all } = buildGraph();
    const dot = graphToDot([target, pruned]);
    const { nodes, edges } = checkDotSyntax(dot);
    // busybox in both stages is one op, drawn once in each stage.
    expect(all.base!.digest).toBe(all.finalBase!.digest);
    expect(nodes.size).toBe(8);
    expect(edges).toHaveLength(6);
    for (const [from, to] of edges) {
      expect(nodes.has(from)).toBe(true);
      expect(nodes.has(to)).toBe(true);
    }
    const idOf = (digest: string): string => new RegExp(`(n\\d+) \\[[^\\n]*tooltip="${digest}"`).exec(dot)?.[1] ?? 'missing';
    expect(edges).toContainEqual([idOf(all.make!.digest), idOf(target.digest)]);
    expect(edges).toContainEqual([idOf(all.context!.digest), idOf(all.src!.digest)]);
    expect(dot).toContain('label="[builder 3/3] RUN make \\"all\\""');
    expect(dot).toContain('label="stage 1"');
    // Where Graphviz is installed, it must accept the text as well.
    const graphviz = spawnSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8' });
    if (graphviz.error === undefined) {
      expect(graphviz.stderr).toBe('');
      expect(graphviz.status).toBe(0);
      expect(graphviz.stdout).toContain('<svg');
    }
  });

  it('shortens long step names to one line in the node label', () => {
    const base = makeVertex({ kind: 'source-scratch' }, [], 'scratch');
    const long = run('true', base, [], `[1/1] RUN <<EOF\n${'echo hello\n'.repeat(20)}EOF`, '0');
    const dot = graphToDot([long]);
    const label = /label="(\[1\/1\][^"]*)"/.exec(dot)?.[1] ?? '';
    expect(label).not.toContain('\n');
    expect([...label]).toHaveLength(80);
    expect(label.endsWith('…')).toBe(true);
  });
});
