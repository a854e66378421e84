// Seam of the overlay snapshotter: committed snapshots keyed by layer chain IDs, plus active (writable) ones.
import type { Descriptor } from '../content/types.js';

/** One layer of an image, with its identities: blob digest (compressed), diffID (uncompressed) and OCI chainID. */
export interface LayerRef {
  readonly blob: Descriptor;
  readonly diffId: string;
  readonly chainId: string;
}

export interface ActiveSnapshot {
  readonly id: string;
  readonly upperDir: string;
  readonly workDir: string;
}

export interface Snapshotter {
  /** Whether the committed snapshot of this chain is unpacked. */
  has(chainId: string): Promise<boolean>;
  /** Makes sure every layer of the chain is unpacked; returns overlay lower dirs, top layer first. */
  lowerDirsOf(chain: readonly LayerRef[], signal?: AbortSignal): Promise<string[]>;
  /** A fresh writable snapshot (empty upper + work dir). */
  prepare(): Promise<ActiveSnapshot>;
  /** Turns an active snapshot's upper dir into the committed snapshot for `chainId` (keeps the existing one if present). */
  commit(active: ActiveSnapshot, chainId: string): Promise<void>;
  discard(active: ActiveSnapshot): Promise<void>;
  /** Removes active snapshots left by a crashed kiln. */
  cleanupStale(): Promise<void>;
  /** Committed chain IDs present. */
  list(): Promise<string[]>;
  remove(chainId: string): Promise<void>;
}
