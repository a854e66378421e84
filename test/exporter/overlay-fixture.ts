// Test fixture: real overlay mounts in a private mount namespace, temp roots, and reading layer blobs back.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileContentStore } from '../../src/content/index.js';
import { decompressed, readTar, type TarHeader } from '../../src/snapshot/index.js';

export function tempRoot(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `kiln-${prefix}-`));
}

export function removeRoot(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

export async function contentStoreIn(root: string): Promise<FileContentStore> {
  const store = new FileContentStore(join(root, 'content'));
  await store.init();
  return store;
}

/**
 * Mounts overlay(lowers, upper) in a private mount namespace and runs `script` (sh) in the merged dir,
 * so `upper` ends up exactly as the kernel writes it. `lowers` are top first.
 */
export function runInOverlay(lowers: readonly string[], upper: string, work: string, script: string): string {
  const merged = `${work}-merged`;
  mkdirSync(merged, { recursive: true });
  mkdirSync(upper, { recursive: true });
  mkdirSync(work, { recursive: true });
  const mountScript = `mount -t overlay overlay -o lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work} ${merged}; cd ${merged}; ${script}`;
  const result = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-ec', mountScript], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`overlay script failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

export interface ReadMember {
  readonly header: TarHeader;
  readonly data: Buffer;
}

/** Every member of a stored layer blob (gzip or plain), with file data. */
export async function membersOf(store: FileContentStore, digest: string): Promise<ReadMember[]> {
  const members: ReadMember[] = [];
  for await (const entry of readTar(decompressed(store.read(digest)))) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry.body) chunks.push(chunk);
    members.push({ header: entry.header, data: Buffer.concat(chunks) });
  }
  return members;
}

/** A busybox root filesystem from Debian's busybox-static. */
export function makeBusyboxRootfs(dir: string): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'etc'), { recursive: true });
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  execFileSync('cp', ['/bin/busybox', join(dir, 'bin', 'busybox')]);
  for (const applet of ['sh', 'ls', 'cat', 'echo']) execFileSync('ln', ['-s', 'busybox', join(dir, 'bin', applet)]);
  execFileSync('sh', ['-c', `printf 'root:x:0:0:root:/root:/bin/sh\\n' > ${dir}/etc/passwd; printf 'root:x:0:\\n' > ${dir}/etc/group`]);
}
