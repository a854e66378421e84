// Fork server side: makes the whole Node heap visible to a cloned child. V8 maps each heap page MADV_DONTFORK, so a
// child cloned as is lacks its own heap and crashes at its first JS step; each page is advised back to DOFORK first.
import { closeSync, openSync, readSync } from 'node:fs';
import { MADV_DOFORK, madvise } from './syscalls.js';

/** /proc/self/maps of a Node process is ~30 KB; a larger one is read in full all the same (the buffer grows). */
const buffers: [Buffer, Buffer] = [Buffer.alloc(256 * 1024), Buffer.alloc(256 * 1024)];

/** Reads /proc/self/maps into `which` buffer without allocating JS strings; returns its length. */
function readMaps(which: 0 | 1): number {
  const fd = openSync('/proc/self/maps', 'r');
  try {
    let length = 0;
    for (;;) {
      let buffer = buffers[which];
      if (length === buffer.length) {
        buffer = Buffer.concat([buffer, Buffer.alloc(buffer.length)]);
        buffers[which] = buffer;
      }
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) return length;
      length += read;
    }
  } finally {
    closeSync(fd);
  }
}

const DASH = 0x2d;
const SPACE = 0x20;
const NEWLINE = 0x0a;
const SLASH = 0x2f;
const BRACKET = 0x5b;

function hexAt(buffer: Buffer, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    const ch = buffer[i] as number;
    value = value * 16 + (ch <= 0x39 ? ch - 0x30 : ch - 0x57);
  }
  return value;
}

/** Advises every anonymous mapping (no path, no [name]: V8's heap pages among them) DOFORK. */
function adviseAnonymousMappings(length: number): void {
  const maps = buffers[0];
  let line = 0;
  while (line < length) {
    let end = maps.indexOf(NEWLINE, line);
    if (end < 0 || end > length) end = length;
    const dash = maps.indexOf(DASH, line);
    const space = maps.indexOf(SPACE, dash);
    const slash = maps.indexOf(SLASH, space);
    const bracket = maps.indexOf(BRACKET, space);
    if ((slash < 0 || slash > end) && (bracket < 0 || bracket > end)) {
      const start = hexAt(maps, line, dash);
      // Refused for special mappings (none of them V8's); the verification below is about new mappings only.
      madvise(start, hexAt(maps, dash + 1, space) - start, MADV_DOFORK);
    }
    line = end + 1;
  }
}

/** Length of the maps text the last prepareForClone verified, to compare with afterwards. */
let verifiedLength = 0;

/**
 * Call right before clone, with nothing allocated in between: advises every mapping DOFORK, then checks that the
 * list of mappings did not change meanwhile (a new V8 page would be DONTFORK again). A minor GC first empties the
 * young generation, so the little this allocates cannot trigger a scavenge, which could map a new page.
 */
export function prepareForClone(): void {
  (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc?.({ type: 'minor' });
  for (let attempt = 0; attempt < 10; attempt++) {
    const length = readMaps(0);
    adviseAnonymousMappings(length);
    const again = readMaps(1);
    if (again === length && buffers[0].compare(buffers[1], 0, again, 0, length) === 0) {
      verifiedLength = length;
      return;
    }
  }
  throw new Error('the fork server memory map kept changing; cannot clone a consistent child');
}

/**
 * True when the mappings are still those prepareForClone verified. Checked by the parent right after clone: a
 * mapping made in between (by a GC) may be missing from the child, which is then killed and cloned again.
 */
export function mappingsUnchanged(): boolean {
  const length = readMaps(0);
  return length === verifiedLength && buffers[0].compare(buffers[1], 0, length, 0, verifiedLength) === 0;
}
