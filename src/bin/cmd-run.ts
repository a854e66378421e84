// kiln run: an image's entrypoint + cmd in the same executor RUN steps use, on a throwaway snapshot.
import { randomBytes } from 'node:crypto';
import { KilnError, UsageError } from '../errors.js';
import { createExecutor } from '../exec/index.js';
import { defaultKilnRoot, openKilnRoot } from '../engine/kiln-root.js';
import { loadLocalImage } from '../engine/local-images.js';
import { boolFlag, keyValues, listFlag, parseFlags, stringFlag } from './flags.js';

const RUN_FLAGS = {
  rm: { type: 'boolean' },
  env: { type: 'string', short: 'e', multiple: true },
  workdir: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  entrypoint: { type: 'string' },
  network: { type: 'string' },
  hostname: { type: 'string', short: 'h' },
  name: { type: 'string' },
  interactive: { type: 'boolean', short: 'i' },
} as const;

/** docker's rule: image Env, then -e overrides by name. */
function mergeEnv(base: readonly string[], overrides: Readonly<Record<string, string>>): string[] {
  const merged = new Map(base.map((entry) => [entry.split('=', 1)[0]!, entry] as const));
  for (const [key, value] of Object.entries(overrides)) merged.set(key, `${key}=${value}`);
  if (![...merged.keys()].includes('PATH')) merged.set('PATH', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  return [...merged.values()];
}

export async function runCommand(args: readonly string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseFlags('run', args, RUN_FLAGS, true);
  const [imageName, ...commandArgs] = positionals;
  if (imageName === undefined) throw new UsageError('kiln run: an IMAGE is required (usage: kiln run [OPTIONS] IMAGE [COMMAND] [ARG...])');
  const network = stringFlag(values, 'network') ?? 'host';
  if (network !== 'host' && network !== 'none') throw new UsageError(`kiln run: invalid --network "${network}": use host or none`);
  const root = await openKilnRoot(defaultKilnRoot());
  const image = await loadLocalImage(root.images, root.content, imageName);
  const config = image.config;
  const entrypointFlag = stringFlag(values, 'entrypoint');
  const entrypoint = entrypointFlag !== undefined ? (entrypointFlag === '' ? [] : [entrypointFlag]) : [...(config.Entrypoint ?? [])];
  // Like docker: --entrypoint drops the image's CMD; arguments replace it.
  const cmd = commandArgs.length > 0 ? commandArgs : entrypointFlag !== undefined ? [] : [...(config.Cmd ?? [])];
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) throw new UsageError(`kiln run: image ${imageName} has no CMD or ENTRYPOINT; give a command`);
  const lowerDirs = await root.snapshots.lowerDirsOf(image.layers, signal);
  const active = await root.snapshots.prepare();
  const executor = createExecutor({ stateDir: root.execStateDir });
  try {
    const status = await executor.run(
      {
        rootfs: { kind: 'overlay', lowerDirs, upperDir: active.upperDir, workDir: active.workDir },
        process: {
          args: argv,
          env: mergeEnv(config.Env ?? [], keyValues('run', '--env', listFlag(values, 'env'), process.env)),
          cwd: stringFlag(values, 'workdir') ?? (config.WorkingDir || '/'),
          user: stringFlag(values, 'user') ?? config.User ?? '',
        },
        hostname: stringFlag(values, 'hostname') ?? randomBytes(6).toString('hex'),
        network,
        mounts: [],
      },
      { ...(boolFlag(values, 'interactive') ? { stdin: process.stdin } : {}), stdout: process.stdout, stderr: process.stderr },
      signal,
    );
    return status.code;
  } catch (error) {
    if (error instanceof KilnError) throw error;
    throw new KilnError(`kiln run ${imageName}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    // kiln keeps no stopped containers: the writable layer always goes (docker's --rm behaviour).
    await root.snapshots.discard(active);
  }
}
