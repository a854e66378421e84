// Creates directories inside a container root: symlinks resolve inside it, created dirs get a mode and owner.
import { chmod, lchown, lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { containerPathOf, resolveInRoot } from '../disk/resolve-in-root.js';
import { CopyDestinationError } from './copy-errors.js';

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * mkdir -p of a container path in `root`: existing directories are left as they are, each created one
 * gets `mode` (no umask) and `owner`. Returns the host path. Fails when a component is not a directory.
 */
export async function mkdirAllInRoot(root: string, containerPath: string, mode: number, owner: Owner): Promise<string> {
  const hostPath = await resolveInRoot(root, containerPath);
  const rel = path.relative(root, hostPath);
  let current = root;
  for (const part of rel === '' ? [] : rel.split(path.sep)) {
    current = path.join(current, part);
    const st = await lstat(current).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (st === null) {
      await mkdir(current, { mode });
      await lchown(current, owner.uid, owner.gid);
      // mkdir applies the umask; chmod sets exactly what was asked.
      await chmod(current, mode);
    } else if (!st.isDirectory()) {
      throw new CopyDestinationError(`cannot create directory ${containerPath}: ${containerPathOf(root, current)} exists and is not a directory`);
    }
  }
  return hostPath;
}
