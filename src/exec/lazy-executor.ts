// The executor behind a dynamic import: a build whose steps are all cached never loads the namespace code.
import type { ExecutorOptions } from './executor.js';
import type { ClosableExecutor } from './types.js';

export function createExecutor(opts: ExecutorOptions): ClosableExecutor {
  let loaded: Promise<ClosableExecutor> | undefined;
  const executor = (): Promise<ClosableExecutor> => (loaded ??= import('./executor.js').then((module) => module.createExecutor(opts)));
  return {
    run: async (spec, io, signal) => (await executor()).run(spec, io, signal),
    runFileOps: async (spec, signal) => (await executor()).runFileOps(spec, signal),
    close: async () => {
      if (loaded !== undefined) await (await loaded).close();
    },
  };
}
