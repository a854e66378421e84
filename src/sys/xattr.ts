// Extended attributes of a path without following symlinks (Node has no xattr API).
import { libcFunction, lastErrno, SysCallError } from './libc.js';
import { constants as osConstants } from 'node:os';

const ENODATA = 61;
const ERANGE = osConstants.errno.ERANGE;
const ENOTSUP = osConstants.errno.ENOTSUP;

const llistxattrFn = () => libcFunction('long llistxattr(const char *path, void *list, size_t size)');
const lgetxattrFn = () => libcFunction('long lgetxattr(const char *path, const char *name, void *value, size_t size)');
const lsetxattrFn = () =>
  libcFunction('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)');

/** Names of the xattrs on `path` (the link itself for a symlink); empty if the filesystem has none. */
export function llistxattr(path: string): string[] {
  for (;;) {
    const size = Number(llistxattrFn()(path, null, 0));
    if (size < 0) {
      const errno = lastErrno();
      if (errno === ENOTSUP) return [];
      throw new SysCallError('llistxattr', path, errno);
    }
    if (size === 0) return [];
    const buffer = Buffer.alloc(size);
    const got = Number(llistxattrFn()(path, buffer, size));
    if (got < 0) {
      const errno = lastErrno();
      // The list grew between the two calls: ask again for the new size.
      if (errno === ERANGE) continue;
      throw new SysCallError('llistxattr', path, errno);
    }
    return buffer
      .subarray(0, got)
      .toString('utf8')
      .split('\0')
      .filter((name) => name.length > 0);
  }
}

/** The raw value of one xattr, or undefined when `path` does not carry it. */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  for (;;) {
    const size = Number(lgetxattrFn()(path, name, null, 0));
    if (size < 0) {
      const errno = lastErrno();
      if (errno === ENODATA || errno === ENOTSUP) return undefined;
      throw new SysCallError(`lgetxattr(${name})`, path, errno);
    }
    const buffer = Buffer.alloc(size);
    if (size === 0) return buffer;
    const got = Number(lgetxattrFn()(path, name, buffer, size));
    if (got < 0) {
      const errno = lastErrno();
      if (errno === ERANGE) continue;
      if (errno === ENODATA) return undefined;
      throw new SysCallError(`lgetxattr(${name})`, path, errno);
    }
    return buffer.subarray(0, got);
  }
}

/** Sets one xattr on `path` itself (never through a symlink). */
export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  const rc = Number(lsetxattrFn()(path, name, value.byteLength === 0 ? Buffer.alloc(1) : value, value.byteLength, 0));
  if (rc !== 0) throw new SysCallError(`lsetxattr(${name})`, path, lastErrno());
}
