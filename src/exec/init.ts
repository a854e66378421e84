// Entry of the container init, started by the builder inside fresh namespaces (PID 1), often ahead of need: it loads
// everything, then blocks until the builder writes its spec's path on the control fd. Reports through the status
// pipe (fd 3) and either execs the command or applies file actions and exits. With FORK_SERVER_ARG it is instead the
// fork server, which clones inits that are ready at once (fork-server.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { setPriority } from 'node:os';
import path from 'node:path';
import { KilnError } from '../errors.js';
import { FORK_SERVER_ARG } from './fork-protocol.js';
import { INIT_NICE_VAR } from './init-protocol.js';
import type { InitSpec } from './init-protocol.js';
import { readSpecPath, sendStatus } from './init-status.js';
import { declareAllSyscalls } from './syscalls.js';

// Without a listener, SIGUSR1 makes Node open its inspector on 127.0.0.1:9229: from PID 1, on the host network,
// that would be a debugger port into the container. A listener takes the signal over (runUnderInit forwards it).
process.on('SIGUSR1', () => undefined);

async function main(): Promise<number> {
  if (process.argv[2] === FORK_SERVER_ARG) {
    const { serveForks } = await import('./fork-server.js');
    declareAllSyscalls();
    (globalThis as { kilnSaveCodeCache?: () => void }).kilnSaveCodeCache?.();
    return serveForks(Number(process.argv[3]));
  }
  // The step cgroups the builder prepared (argv): joined now, before the step's clock starts.
  for (const procsFile of process.argv.slice(2)) writeFileSync(procsFile, '0');
  const [{ prepareKernelMounts, reportStartFailure, runContainerInit }, { runFileInit }] = await Promise.all([
    import('./init-container.js'),
    import('./init-file.js'),
  ]);
  declareAllSyscalls();
  // In the step directory (unshare's cwd, so the init's): a sandboxed step's /proc, /dev and /sys, mounted ahead.
  const staged = prepareKernelMounts(path.join(process.cwd(), 'kernel'));
  // One async fs call starts libuv's thread pool now: under a pids limit (joined before the command) it could not.
  await access('/');
  // Everything a step runs is compiled now: the first init after a build leaves the code cache for the next ones.
  (globalThis as { kilnSaveCodeCache?: () => void }).kilnSaveCodeCache?.();
  // A spare starts at the lowest priority (spawn-init.ts); waiting, it takes the builder's back, so that the step
  // handed to it, and the command it execs (which keeps this thread's nice value), run as the builder does.
  setPriority(Number(process.env[INIT_NICE_VAR] ?? 0));
  sendStatus({ kind: 'waiting' });
  const specPath = readSpecPath();
  if (specPath === undefined) return 0;
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as InitSpec;
  if (spec.mode === 'container') {
    try {
      return await runContainerInit(spec, staged);
    } catch (err) {
      return reportStartFailure(err);
    }
  }
  try {
    await runFileInit(spec);
    return 0;
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    // A KilnError is the user's problem and its message says it all; anything else is a bug worth a stack.
    if (!(e instanceof KilnError)) process.stderr.write(`kiln init: ${e.stack ?? e.message}\n`);
    sendStatus({ kind: 'file-failed', name: e.name, message: e.message });
    return 1;
  }
}

// Not a top-level await: the init is bundled as CommonJS so that it can start from a V8 code cache.
main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kiln init: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 125;
  },
);
