// Shared set-up of the executor tests: a compiled init, a busybox lower layer, fresh upper/work dirs per run.
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { makeBusyboxRootfs, repoRoot } from '../helpers/kiln.js';
import { createExecutor } from '../../src/exec/index.js';
import type { ExecMount, ExitStatus, RunSpec } from '../../src/exec/index.js';

/** The init runs as a compiled bundle: rebuild it when an exec source is newer than dist/exec/init.cjs. */
export async function ensureInitBuilt(): Promise<void> {
  const init = join(repoRoot, 'dist', 'exec', 'init.cjs');
  const builtAt = await stat(init).then((s) => s.mtimeMs, () => 0);
  const srcDir = join(repoRoot, 'src', 'exec');
  let newest = 0;
  for (const name of await readdir(srcDir)) newest = Math.max(newest, (await stat(join(srcDir, name))).mtimeMs);
  if (newest > builtAt) execFileSync(process.execPath, [join(repoRoot, 'scripts', 'bundle.mjs')], { cwd: repoRoot, stdio: 'pipe' });
}

export interface ExecFixture {
  readonly tmp: string;
  readonly stateDir: string;
  readonly rootfs: string;
  readonly executor: ReturnType<typeof createExecutor>;
  /** A fresh upper/work pair for one run. */
  layer(): Promise<{ upperDir: string; workDir: string }>;
  dispose(): Promise<void>;
}

export async function makeExecFixture(): Promise<ExecFixture> {
  await ensureInitBuilt();
  const tmp = await mkdtemp(join(tmpdir(), 'kiln-exec-test-'));
  const stateDir = join(tmp, 'state');
  const rootfs = await makeBusyboxRootfs();
  let n = 0;
  return {
    tmp,
    stateDir,
    rootfs,
    executor: createExecutor({ stateDir }),
    async layer() {
      n += 1;
      const upperDir = join(tmp, `upper${n}`);
      const workDir = join(tmp, `work${n}`);
      await mkdir(upperDir);
      await mkdir(workDir);
      return { upperDir, workDir };
    },
    async dispose() {
      await rm(tmp, { recursive: true, force: true });
      await rm(rootfs, { recursive: true, force: true });
    },
  };
}

export interface RunOptions {
  readonly user?: string;
  readonly env?: readonly string[];
  readonly cwd?: string;
  readonly network?: 'host' | 'none';
  readonly mounts?: readonly ExecMount[];
  readonly security?: 'sandbox' | 'insecure';
  readonly stdin?: string;
  readonly lowerDirs?: readonly string[];
  readonly hostname?: string;
  readonly signal?: AbortSignal;
  readonly layer?: { upperDir: string; workDir: string };
}

export interface RunResult {
  readonly status: ExitStatus;
  readonly stdout: string;
  readonly stderr: string;
  readonly upperDir: string;
}

export function specFor(fx: ExecFixture, args: readonly string[], layer: { upperDir: string; workDir: string }, opts: RunOptions = {}): RunSpec {
  return {
    rootfs: { kind: 'overlay', lowerDirs: opts.lowerDirs ?? [fx.rootfs], ...layer },
    process: { args, env: opts.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], cwd: opts.cwd ?? '/', user: opts.user ?? '' },
    hostname: opts.hostname ?? 'kiln-test',
    network: opts.network ?? 'none',
    mounts: opts.mounts ?? [],
    security: opts.security ?? 'sandbox',
  };
}

/** Runs `args` and collects its output. */
export async function runIn(fx: ExecFixture, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const layer = opts.layer ?? (await fx.layer());
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const io = { stdout, stderr, ...(opts.stdin !== undefined ? { stdin: Readable.from([opts.stdin]) } : {}) };
  const status = await fx.executor.run(specFor(fx, args, layer, opts), io, opts.signal ?? new AbortController().signal);
  return { status, stdout: out, stderr: err, upperDir: layer.upperDir };
}
