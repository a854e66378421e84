// The mounts a spec adds inside the root (RUN --mount, kiln run -v, secrets) and the read-only /etc binds.
import { chmodSync, chownSync, copyFileSync, statSync } from 'node:fs';
import type { EtcFiles } from './init-protocol.js';
import { MS, mount } from './syscalls.js';
import { ensureMountTarget } from './mount-target.js';
import type { PlannedTarget } from './mountpoint-layer.js';
import { mountOverlay } from './overlay-mount.js';
import type { ExecMount } from './types.js';

export function bindReadonly(source: string, target: string): void {
  mount(source, target, null, MS.BIND | MS.REC, null);
  mount(null, target, null, MS.BIND | MS.REMOUNT | MS.RDONLY, null);
}

/** /etc/hosts, /etc/resolv.conf and /etc/hostname from per-step host files, read-only (as BuildKit does). */
const ETC_TARGETS = ['/etc/hosts', '/etc/resolv.conf', '/etc/hostname'] as const;

export function bindEtcFiles(root: string, etc: EtcFiles): void {
  bindReadonly(etc.hosts, ensureMountTarget(root, '/etc/hosts', 'file'));
  bindReadonly(etc.resolvConf, ensureMountTarget(root, '/etc/resolv.conf', 'file'));
  bindReadonly(etc.hostname, ensureMountTarget(root, '/etc/hostname', 'file'));
}

/** Host dirs the init uses for mount sources that do not exist on the host yet. */
export interface MountScratch {
  /** An empty read-only directory, the bottom lower when an overlay needs one more layer. */
  readonly emptyDir: string;
  /** An empty directory where a private tmpfs for file (secret) copies is mounted on first use. */
  readonly filesDir: string;
}

/** A read-only view of layers (top first): overlayfs wants two lowers without an upper, so one layer is a plain read-only bind. */
export function mountReadonlyLayers(lowerDirs: readonly string[], target: string, emptyDir: string): void {
  if (lowerDirs.length >= 2) mountOverlay(target, { lowerDirs }, true);
  else bindReadonly(lowerDirs[0] ?? emptyDir, target);
}

/** Every mount target of the spec, with the kind of entry it needs; /etc files first. */
export function plannedTargets(mounts: readonly ExecMount[]): PlannedTarget[] {
  const etc: PlannedTarget[] = ETC_TARGETS.map((p) => ({ path: p, kind: 'file' }));
  return [
    ...etc,
    ...mounts.map((m): PlannedTarget => {
      switch (m.kind) {
        case 'bind':
          return { path: m.target, kind: statSync(m.source).isDirectory() ? 'dir' : 'file' };
        case 'file':
          return { path: m.target, kind: 'file' };
        default:
          return { path: m.target, kind: 'dir' };
      }
    }),
  ];
}

export function mountAll(root: string, mounts: readonly ExecMount[], scratch: MountScratch): void {
  let filesTmpfs = false;
  mounts.forEach((m, index) => {
    switch (m.kind) {
      case 'bind': {
        const isDir = statSync(m.source).isDirectory();
        const target = ensureMountTarget(root, m.target, isDir ? 'dir' : 'file');
        if (m.readonly) bindReadonly(m.source, target);
        else mount(m.source, target, null, MS.BIND | MS.REC, null);
        return;
      }
      case 'overlay-ro': {
        mountReadonlyLayers(m.lowerDirs, ensureMountTarget(root, m.target, 'dir'), scratch.emptyDir);
        return;
      }
      case 'overlay-rw-discard': {
        const lowerDirs = m.lowerDirs.length >= 1 ? m.lowerDirs : [scratch.emptyDir];
        mountOverlay(ensureMountTarget(root, m.target, 'dir'), { lowerDirs, upper: { upperDir: m.upperDir, workDir: m.workDir } }, false);
        return;
      }
      case 'tmpfs': {
        const size = m.sizeBytes !== undefined ? `,size=${m.sizeBytes}` : '';
        mount('tmpfs', ensureMountTarget(root, m.target, 'dir'), 'tmpfs', MS.NOSUID | MS.NODEV, `mode=1777${size}`);
        return;
      }
      case 'file': {
        // The copy lives on a tmpfs private to this mount namespace, so its owner and mode never touch the host file.
        if (!filesTmpfs) {
          mount('tmpfs', scratch.filesDir, 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=700,size=16m');
          filesTmpfs = true;
        }
        const copy = `${scratch.filesDir}/${index}`;
        copyFileSync(m.source, copy);
        chownSync(copy, m.uid, m.gid);
        chmodSync(copy, m.mode);
        bindReadonly(copy, ensureMountTarget(root, m.target, 'file'));
        return;
      }
      default: {
        const never: never = m;
        throw new Error(`unknown mount kind ${JSON.stringify(never)}`);
      }
    }
  });
}
