// File mode of the init: mount the rootfs and the sources in a private mount namespace, then apply COPY/mkdir actions.
import { applyFileActions } from './file-actions.js';
import type { FileInitSpec } from './init-protocol.js';
import { MS, mount } from './syscalls.js';
import { mountOverlay } from './overlay-mount.js';
import { bindReadonly, mountReadonlyLayers } from './user-mounts.js';

export async function runFileInit(spec: FileInitSpec): Promise<void> {
  mount(null, '/', null, MS.REC | MS.PRIVATE, null);
  const { lowerDirs, upperDir, workDir } = spec.rootfs;
  mountOverlay(spec.mergedDir, { lowerDirs: [...lowerDirs, spec.stubDir], upper: { upperDir, workDir } }, false);
  const sources = spec.sources.map((s) => {
    if (s === null) return undefined;
    // Sources are mounted read-only: a COPY can never write into the build context or another snapshot.
    if (s.kind === 'dir') bindReadonly(s.dir, s.mountDir);
    else mountReadonlyLayers(s.lowerDirs, s.mountDir, spec.emptyDir);
    // A build context's files belong to root in the image, as BuildKit's client sends them; a snapshot keeps its owners.
    return { root: s.mountDir, exclude: s.exclude, resetOwnership: s.kind === 'dir' };
  });
  await applyFileActions(spec.mergedDir, sources, spec.actions);
}
