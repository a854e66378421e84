// Device nodes and fifos by mknod(2): overlay whiteouts (char 0:0) and device entries of layers.
import { libcFunction, lastErrno, SysCallError } from './libc.js';

const mknodFn = () => libcFunction('int mknod(const char *path, uint32_t mode, uint64_t dev)');

export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

/** Linux makedev: the dev_t of a (major, minor) pair. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

/** Splits a dev_t (as Node's stat.rdev reports it) into major and minor numbers. */
export function splitDev(rdev: number | bigint): { major: number; minor: number } {
  const dev = BigInt(rdev);
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { major, minor };
}

/** Creates a node; `mode` includes the file type bits (S_IFCHR, S_IFBLK, S_IFIFO). The umask still applies. */
export function mknod(path: string, mode: number, dev: bigint = 0n): void {
  const rc = Number(mknodFn()(path, mode, dev));
  if (rc !== 0) throw new SysCallError('mknod', path, lastErrno());
}
