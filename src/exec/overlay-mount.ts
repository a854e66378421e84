// Mounts an overlay (init side): legacy mount(2) when the options fit in a page, else the new mount API with "lowerdir+".
import { MOUNT_ATTR_RDONLY, MS, fsMount, mount } from './syscalls.js';
import type { FsParam } from './syscalls.js';

export interface OverlayLayers {
  /** Read-only layers, top first. At least two when there is no upper dir (the kernel's rule). */
  readonly lowerDirs: readonly string[];
  readonly upper?: { readonly upperDir: string; readonly workDir: string };
}

/** mount(2) copies at most one page of option data; keep a margin for the other options. */
const LEGACY_OPTIONS_MAX = 3800;

/** Characters the legacy option string would need escaping for; such paths go through fsconfig unescaped. */
const NEEDS_ESCAPE = /[:,\\]/;

export function mountOverlay(target: string, layers: OverlayLayers, readonly: boolean): void {
  const paths = [...layers.lowerDirs, ...(layers.upper ? [layers.upper.upperDir, layers.upper.workDir] : [])];
  const legacy = legacyOptions(layers);
  if (legacy.length <= LEGACY_OPTIONS_MAX && !paths.some((p) => NEEDS_ESCAPE.test(p))) {
    mount('overlay', target, 'overlay', readonly ? MS.RDONLY : 0, legacy);
    return;
  }
  const params: FsParam[] = [['source', 'overlay'], ...layers.lowerDirs.map((d): FsParam => ['lowerdir+', d])];
  if (layers.upper) params.push(['upperdir', layers.upper.upperDir], ['workdir', layers.upper.workDir]);
  fsMount('overlay', params, readonly ? MOUNT_ATTR_RDONLY : 0, target);
}

function legacyOptions(layers: OverlayLayers): string {
  const opts = [`lowerdir=${layers.lowerDirs.join(':')}`];
  if (layers.upper) opts.push(`upperdir=${layers.upper.upperDir}`, `workdir=${layers.upper.workDir}`);
  return opts.join(',');
}
