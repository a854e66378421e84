// Keeps mount points out of the step's diff: missing targets are created in a per-step lower layer, not the upper dir.
import { containerPathOf } from '../disk/resolve-in-root.js';
import { createMountTarget, findMountTarget } from './mount-target.js';
import type { MountTargetKind } from './mount-target.js';
import { mountOverlay } from './overlay-mount.js';
import { MNT_DETACH, umount2 } from './syscalls.js';

export interface PlannedTarget {
  readonly path: string;
  readonly kind: MountTargetKind;
}

/**
 * Looks at the image through a read-only probe overlay of `lowerDirs` and creates every missing target (at its
 * resolved path, so an image symlink in the way is honoured) inside `layerDir`. Stacked below the image, that
 * layer makes the targets exist in the real root while the image's own entries win, so a RUN --mount target
 * never shows up in the layer the step commits. Returns whether the layer got anything.
 */
export function prepareMountpointLayer(lowerDirs: readonly string[], probeDir: string, layerDir: string, targets: readonly PlannedTarget[]): boolean {
  if (targets.length === 0) return false;
  mountOverlay(probeDir, { lowerDirs }, true);
  let created = false;
  try {
    for (const t of targets) {
      const { hostPath, exists } = findMountTarget(probeDir, t.path, t.kind);
      if (exists) continue;
      createMountTarget(layerDir + containerPathOf(probeDir, hostPath), t.kind);
      created = true;
    }
  } finally {
    umount2(probeDir, MNT_DETACH);
  }
  return created;
}
