// The executor behind a dynamic import: a build whose steps are all cached never loads the namespace code.
import type { ExecutorOptions } from './executor.js';
import type { Executor, FileOpRunner } from './types.js';

export function createExecutor(opts: ExecutorOptions): Executor & FileOpRunner {
  let loaded: Promise<Executor & FileOpRunner> | undefined;
  const executor = (): Promise<Executor & FileOpRunner> => (loaded ??= import('./executor.js').then((module) => module.createExecutor(opts)));
  return {
    run: async (spec, io, signal) => (await executor()).run(spec, io, signal),
    runFileOps: async (spec, signal) => (await executor()).runFileOps(spec, signal),
  };
}
