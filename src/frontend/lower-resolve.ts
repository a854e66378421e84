// Base image config lookups, with failures positioned at the instruction that named the image.
import type { Platform } from '../llb/index.js';
import type { InstructionNode } from './ast.js';
import { DockerfileError } from './dockerfile-error.js';
import { instructionError } from './instructions-error.js';
import { suggestClosest } from './instructions-suggest.js';
import type { BuildContext } from './lower-state.js';

/**
 * Ask the resolver for `ref`. A failure names the line, and suggests a stage when the name looks like a
 * misspelt one (BuildKit does the same: an unknown `--from` or FROM name is taken as an image).
 */
export async function resolveImageAt(ctx: BuildContext, ref: string, platform: Platform, node: InstructionNode) {
  try {
    return await ctx.request.resolver.resolveImageConfig(ref, platform);
  } catch (err) {
    if (err instanceof DockerfileError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    const stages = ctx.parsed.stages.flatMap((s) => (s.name === undefined ? [] : [s.name]));
    const match = suggestClosest(ref.toLowerCase(), stages);
    const hint = match === undefined ? '' : ` (did you mean stage ${JSON.stringify(match)}?)`;
    const wrapped = instructionError(ctx.ex.source, node, `failed to resolve image ${JSON.stringify(ref)}: ${reason}${hint}`);
    (wrapped as { cause?: unknown }).cause = err;
    throw wrapped;
  }
}
