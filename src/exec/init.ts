// Entry of the container init: `node init.js <spec.json>` started by the builder inside fresh namespaces (PID 1).
// Reports through the status pipe (fd 3) and either execs the command or applies file actions and exits.
import { readFileSync } from 'node:fs';
import { KilnError } from '../errors.js';
import { ContainerStartError } from './errors.js';
import type { InitSpec } from './init-protocol.js';
import { sendStatus } from './init-status.js';

// Without a listener, SIGUSR1 makes Node open its inspector on 127.0.0.1:9229: from PID 1, on the host network,
// that would be a debugger port into the container. A listener takes the signal over (runUnderInit forwards it).
process.on('SIGUSR1', () => undefined);

async function main(): Promise<number> {
  const specPath = process.argv[2];
  if (specPath === undefined) throw new Error('usage: init.js <spec.json>');
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as InitSpec;
  // Each mode loads only its own modules: every import costs start-up time on every step.
  if (spec.mode === 'container') {
    const { runContainerInit } = await import('./init-container.js');
    try {
      return await runContainerInit(spec);
    } catch (err) {
      const status = err instanceof ContainerStartError ? err.status : 125;
      if (!(err instanceof ContainerStartError)) process.stderr.write(`kiln init: ${(err as Error).stack ?? String(err)}\n`);
      sendStatus({ kind: 'start-failed', status, message: (err as Error).message });
      return status;
    }
  }
  const { runFileInit } = await import('./init-file.js');
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

process.exitCode = await main();
