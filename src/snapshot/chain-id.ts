// OCI ChainID: identifies a stack of layers, so equal stacks share one snapshot.
import { createHash } from 'node:crypto';

/** ChainID(L0) = DiffID(L0); ChainID(L0|…|Ln) = sha256(ChainID(L0|…|Ln-1) + " " + DiffID(Ln)). */
export function chainIdOf(parentChainId: string | undefined, diffId: string): string {
  if (parentChainId === undefined) return diffId;
  return `sha256:${createHash('sha256').update(`${parentChainId} ${diffId}`).digest('hex')}`;
}
