// BuildKit's AST dump (the format of its parser golden files): one `(keyword ["--flags"] "args"...)` per instruction.
import type { DockerfileAst, InstructionNode } from './ast.js';
import { goQuote } from './go-quote.js';
import { isKnownKeyword } from './parser-shape.js';

function dumpNode(node: InstructionNode): string {
  let out = node.keyword;
  if (node.flags.length > 0) out += ` [${node.flags.map(goQuote).join(' ')}]`;
  if (node.next !== undefined) return `${out} (${dumpNode(node.next)})`;
  // BuildKit keeps one empty argument node for keywords it does not know.
  if (!isKnownKeyword(node.keyword)) return `${out} ""`;
  for (const arg of node.args) out += ` ${goQuote(arg)}`;
  return out;
}

/** The dump of every top-level instruction, each line `(node)` ending in "\n". */
export function dumpAst(ast: DockerfileAst): string {
  let out = '';
  for (const child of ast.children) out += `(${dumpNode(child)})\n`;
  return out;
}
