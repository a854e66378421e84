export { SysCallError } from './libc.js';
export { llistxattr, lgetxattr, lsetxattr } from './xattr.js';
export { mknod, makedev, splitDev, S_IFIFO, S_IFCHR, S_IFBLK } from './mknod.js';
