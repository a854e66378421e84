// Global (meta) ARGs before the first FROM, predefined ARGs, and which --build-args were consumed.
import { expandAt, type Expander } from './instructions-expand.js';
import type { ArgInstruction } from './instructions.js';

/** Proxy ARGs: usable without an ARG instruction and kept out of the image history. */
export const PROXY_ARG_NAMES: ReadonlySet<string> = new Set([
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
]);

/** Build args BuildKit itself reads: never reported as unused. */
export function isBuiltinBuildArg(name: string): boolean {
  return PROXY_ARG_NAMES.has(name) || name.startsWith('BUILDKIT_') || name === 'SOURCE_DATE_EPOCH';
}

export interface GlobalArgs {
  /** Names and values visible in FROM lines, and to `ARG NAME` redeclarations inside stages. */
  readonly env: ReadonlyMap<string, string>;
  /** Every meta ARG name, with or without a value. */
  readonly declared: ReadonlySet<string>;
}

/**
 * Evaluate the ARGs before the first FROM, in order, on top of the predefined ones.
 * `buildArgs` override defaults; `undefined` evaluates with defaults only (for InvalidDefaultArgInFrom).
 */
export function evaluateMetaArgs(
  ex: Expander,
  metaArgs: readonly ArgInstruction[],
  predefined: ReadonlyMap<string, string>,
  buildArgs: Readonly<Record<string, string>> | undefined,
): GlobalArgs {
  const env = new Map(predefined);
  const declared = new Set<string>();
  for (const instruction of metaArgs) {
    for (const arg of instruction.args) {
      declared.add(arg.key);
      let value: string | undefined;
      if (buildArgs !== undefined && Object.hasOwn(buildArgs, arg.key)) value = buildArgs[arg.key];
      else if (arg.value !== undefined) value = expandAt(ex, instruction.node, arg.value, env);
      if (value !== undefined) env.set(arg.key, value);
    }
  }
  return { env, declared };
}

/** The --build-args no ARG instruction consumed (BuildKit warns about them). */
export function unusedBuildArgs(buildArgs: Readonly<Record<string, string>>, consumed: ReadonlySet<string>): string[] {
  return Object.keys(buildArgs)
    .filter((k) => !consumed.has(k) && !isBuiltinBuildArg(k))
    .sort();
}
