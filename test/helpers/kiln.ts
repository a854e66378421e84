// Test harness: runs the real CLI (bin/kiln) against a temporary KILN_ROOT, with a busybox base image.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll } from 'vitest';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const kilnBin = join(repoRoot, 'bin', 'kiln');

export interface KilnResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface KilnOptions {
  readonly root: string;
  readonly cwd?: string;
  readonly input?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Called with the child once it started (to send it signals). */
  readonly onSpawn?: (child: import('node:child_process').ChildProcess) => void;
}

export function runKiln(args: readonly string[], opts: KilnOptions): Promise<KilnResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--', kilnBin, ...args], {
      cwd: opts.cwd ?? repoRoot,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', KILN_ROOT: opts.root, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
    child.stdin.end(opts.input ?? '');
    opts.onSpawn?.(child);
  });
}

/** A fresh KILN_ROOT under the system temp dir. */
export async function makeKilnRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'kiln-test-root-'));
}

/** A busybox root filesystem directory (from Debian's busybox-static). */
export async function makeBusyboxRootfs(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-test-rootfs-'));
  execFileSync(join(repoRoot, 'scripts', 'busybox-rootfs.sh'), [dir]);
  return dir;
}

/** Imports busybox as busybox:latest into `root`. */
export async function importBusybox(root: string): Promise<void> {
  const rootfs = await makeBusyboxRootfs();
  try {
    const result = await runKiln(['import', rootfs, 'busybox:latest'], { root });
    if (result.code !== 0) throw new Error(`kiln import failed: ${result.stderr}`);
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}

/** Writes a build context: files by relative path. */
export async function makeContext(files: Readonly<Record<string, string>>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-test-ctx-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return dir;
}

/** Lines of every process's mountinfo that mention `path` (a leak check across all mount namespaces). */
export async function mountsMentioning(path: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const text = await readFile(`/proc/${pid}/mountinfo`, 'utf8');
      for (const line of text.split('\n')) if (line.includes(path)) found.push(`${pid}: ${line}`);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Processes whose command line mentions `text` (containers left running). */
export async function processesMentioning(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      if (cmdline.includes(text)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // Gone already.
    }
  }
  return found;
}

/** Processes whose working directory lies under `path` (an init kiln started ahead and never ended shows here). */
export async function processesWorkingIn(path: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cwd = await readlink(`/proc/${pid}/cwd`);
      if (cwd === path || cwd.startsWith(`${path}/`)) found.push(`${pid}: ${cwd}`);
    } catch {
      // Gone already.
    }
  }
  return found;
}

/** Unpacks a saved image with skopeo + umoci and returns the rootfs path of the bundle. */
export function unpackWithUmoci(archive: string, workDir: string, tag = 'latest'): string {
  const layout = join(workDir, 'layout');
  const bundle = join(workDir, 'bundle');
  execFileSync('skopeo', ['copy', `oci-archive:${archive}`, `oci:${layout}:${tag}`], { stdio: 'pipe' });
  execFileSync('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle], { stdio: 'pipe' });
  return join(bundle, 'rootfs');
}

export interface KilnTestRoot {
  /** The KILN_ROOT of this test file (set in beforeAll). */
  readonly root: string;
  /** A build context that is removed after the file's tests. */
  context(files: Readonly<Record<string, string>>): Promise<string>;
  /** Removes `dir` after the file's tests. */
  track(dir: string): string;
}

/** One KILN_ROOT per test file, with busybox:latest imported, and every temporary dir removed afterwards. */
export function useKilnRoot(): KilnTestRoot {
  let root = '';
  const cleanup: string[] = [];
  beforeAll(async () => {
    root = await makeKilnRoot();
    cleanup.push(root);
    await importBusybox(root);
  });
  afterAll(async () => {
    for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
  });
  return {
    get root() {
      return root;
    },
    async context(files) {
      const dir = await makeContext(files);
      cleanup.push(dir);
      return dir;
    },
    track(dir) {
      cleanup.push(dir);
      return dir;
    },
  };
}
