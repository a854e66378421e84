// Builder side of one init run: spawn setpriv → unshare → node init.js, stream its output, collect status and diagnostics.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { ExecSetupError } from './errors.js';
import { parseStatusLines } from './init-protocol.js';
import type { StatusMessage } from './init-protocol.js';

export interface InitLaunch {
  /** unshare's namespace flags, e.g. ["--mount", "--pid", "--fork", ...]. */
  readonly namespaces: readonly string[];
  readonly specPath: string;
  readonly stdin?: Readable;
  /** Where the command's stdout and stderr go; undefined collects them into the diagnostics. */
  readonly stdout?: Writable;
  readonly stderr?: Writable;
  readonly signal: AbortSignal;
  /** Called once the init reported that the command is about to start. */
  readonly onReady?: (pid: number) => void;
}

export interface InitOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly messages: readonly StatusMessage[];
  /** unshare's and the init's own stderr (and the command's output when not streamed). */
  readonly diag: string;
  /** True when the run was killed because `signal` aborted. */
  readonly aborted: boolean;
}

const DIAG_LIMIT = 64 * 1024;

const TOOL_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];

function findTool(name: string): string {
  for (const dir of [...(process.env.PATH ?? '').split(':').filter((d) => d !== ''), ...TOOL_DIRS]) {
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new ExecSetupError(`${name} (util-linux) is not installed; kiln needs it to create namespaces`);
}

let tools: { setpriv: string; unshare: string } | undefined;

/** The compiled init. Running from TypeScript sources (tests), it is the build output in dist/. */
export function initScriptPath(): string {
  const here = fileURLToPath(import.meta.url);
  const script = here.endsWith('.ts')
    ? path.resolve(path.dirname(here), '..', '..', 'dist', 'exec', 'init.js')
    : fileURLToPath(new URL('./init.js', import.meta.url));
  if (!existsSync(script)) throw new ExecSetupError(`container init ${script} is missing; build kiln first (npx tsc -p tsconfig.json)`);
  return script;
}

export function spawnInit(launch: InitLaunch): Promise<InitOutcome> {
  tools ??= { setpriv: findTool('setpriv'), unshare: findTool('unshare') };
  const args = [
    // The container dies with the builder: PDEATHSIG kills unshare, whose --kill-child takes PID 1 and so the pid namespace.
    '--pdeathsig',
    'KILL',
    '--',
    tools.unshare,
    ...launch.namespaces,
    '--',
    process.execPath,
    initScriptPath(),
    launch.specPath,
  ];
  return new Promise((resolve, reject) => {
    if (launch.signal.aborted) {
      reject(launch.signal.reason);
      return;
    }
    // A minimal environment: NODE_OPTIONS or NODE_EXTRA_CA_CERTS would cost start-up time on every step.
    const child = spawn(tools!.setpriv, args, {
      env: {},
      stdio: [launch.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    let diag = '';
    let statusText = '';
    let aborted = false;
    let readySent = false;
    const addDiag = (chunk: Buffer): void => {
      if (diag.length < DIAG_LIMIT) diag += chunk.toString('utf8');
    };
    const [stdinPipe, stdoutPipe, diagPipe, statusPipe, stderrPipe] = child.stdio as [Writable | null, Readable, Readable, Readable, Readable];
    if (launch.stdout) stdoutPipe.pipe(launch.stdout, { end: false });
    else stdoutPipe.on('data', addDiag);
    if (launch.stderr) stderrPipe.pipe(launch.stderr, { end: false });
    else stderrPipe.on('data', addDiag);
    diagPipe.on('data', addDiag);
    statusPipe.on('data', (chunk: Buffer) => {
      statusText += chunk.toString('utf8');
      if (!readySent && launch.onReady !== undefined) {
        const ready = safeParse(statusText).find((m) => m.kind === 'ready');
        if (ready !== undefined && ready.kind === 'ready') {
          readySent = true;
          launch.onReady(ready.pid);
        }
      }
    });
    if (launch.stdin && stdinPipe) {
      // The command may exit without reading all of stdin; the broken pipe that follows is expected.
      stdinPipe.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') addDiag(Buffer.from(`stdin: ${err.message}\n`));
      });
      launch.stdin.pipe(stdinPipe);
    }
    const onAbort = (): void => {
      aborted = true;
      child.kill('SIGKILL');
    };
    launch.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      launch.signal.removeEventListener('abort', onAbort);
      reject(new ExecSetupError(`cannot start the container init: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      launch.signal.removeEventListener('abort', onAbort);
      if (launch.stdin && stdinPipe) launch.stdin.unpipe(stdinPipe);
      if (launch.stdout) stdoutPipe.unpipe(launch.stdout);
      if (launch.stderr) stderrPipe.unpipe(launch.stderr);
      let messages: StatusMessage[];
      try {
        messages = parseStatusLines(statusText);
      } catch {
        reject(new ExecSetupError(`container init sent a malformed status: ${JSON.stringify(statusText)}; diagnostics: ${diag.trim()}`));
        return;
      }
      resolve({ code, signal, messages, diag, aborted });
    });
  });
}

/** Status lines seen so far; a partial last line is not an error yet. */
function safeParse(text: string): StatusMessage[] {
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  try {
    return parseStatusLines(complete);
  } catch {
    return [];
  }
}
