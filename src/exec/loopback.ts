// Brings up "lo" in a fresh network namespace (it starts DOWN) with SIOCGIFFLAGS/SIOCSIFFLAGS.
import { close, ioctl, socket } from './syscalls.js';

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 0x1;

export function bringLoopbackUp(): void {
  const fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  try {
    // struct ifreq: 16-byte name, then the union whose first member is the short ifr_flags.
    const ifr = Buffer.alloc(40);
    ifr.write('lo', 0, 'ascii');
    ioctl(fd, SIOCGIFFLAGS, ifr);
    ifr.writeInt16LE(ifr.readInt16LE(16) | IFF_UP, 16);
    ioctl(fd, SIOCSIFFLAGS, ifr);
  } finally {
    close(fd);
  }
}
