// kiln build: flags → BuildRequest → engine; prints the image ID.
import { availableParallelism } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { parseCacheOption } from '../cache/cache-option.js';
import { checkBuild, type BuildRequest } from '../engine/build.js';
import { Engine } from '../engine/engine.js';
import { parseSecretFlag } from '../engine/secrets.js';
import { openKilnRoot, defaultKilnRoot } from '../engine/kiln-root.js';
import { boolFlag, keyValues, listFlag, parseFlags, stringFlag } from './flags.js';
import { progressDisplayFor } from './progress-choice.js';
import { graphToDot } from '../progress/index.js';

const BUILD_FLAGS = {
  tag: { type: 'string', short: 't', multiple: true },
  file: { type: 'string', short: 'f' },
  'build-arg': { type: 'string', multiple: true },
  target: { type: 'string' },
  'no-cache': { type: 'boolean' },
  'no-cache-filter': { type: 'string', multiple: true },
  progress: { type: 'string' },
  'max-parallelism': { type: 'string' },
  allow: { type: 'string', multiple: true },
  check: { type: 'boolean' },
  iidfile: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  'build-context': { type: 'string', multiple: true },
  print: { type: 'string' },
  secret: { type: 'string', multiple: true },
  'cache-from': { type: 'string', multiple: true },
  'cache-to': { type: 'string', multiple: true },
} as const;

export async function buildCommand(args: readonly string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseFlags('build', args, BUILD_FLAGS);
  if (positionals.length !== 1) throw new UsageError('kiln build: exactly one CONTEXT directory is required (usage: kiln build [OPTIONS] CONTEXT)');
  const parallelismText = stringFlag(values, 'max-parallelism');
  const maxParallelism = parallelismText === undefined ? availableParallelism() : Number(parallelismText);
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1) throw new UsageError(`kiln build: invalid --max-parallelism "${parallelismText}": a positive integer is required`);
  const allow = listFlag(values, 'allow');
  for (const entitlement of allow) {
    if (entitlement !== 'security.insecure' && entitlement !== 'network.host') throw new UsageError(`kiln build: invalid --allow "${entitlement}": use security.insecure or network.host`);
  }
  const file = stringFlag(values, 'file');
  const target = stringFlag(values, 'target');
  const request: BuildRequest = {
    contextDir: positionals[0]!,
    ...(file === undefined ? {} : { dockerfile: file }),
    ...(target === undefined ? {} : { target }),
    tags: listFlag(values, 'tag'),
    buildArgs: keyValues('build', '--build-arg', listFlag(values, 'build-arg'), process.env),
    noCache: boolFlag(values, 'no-cache'),
    noCacheFilter: listFlag(values, 'no-cache-filter').flatMap((list) => list.split(',')).filter((stage) => stage !== ''),
    maxParallelism,
    allowInsecure: allow.includes('security.insecure'),
    secrets: Object.fromEntries(listFlag(values, 'secret').map((text) => {
      const { id, spec } = parseSecretFlag(text);
      return [id, spec];
    })),
    clientEnv: process.env,
    buildContexts: keyValues('build', '--build-context', listFlag(values, 'build-context')),
    cacheFrom: listFlag(values, 'cache-from').map((text) => parseCacheOption(text, '--cache-from')),
    cacheTo: listFlag(values, 'cache-to').map((text) => parseCacheOption(text, '--cache-to')),
  };
  const root = await openKilnRoot(defaultKilnRoot());
  if (boolFlag(values, 'check')) {
    const warnings = await checkBuild(root, request);
    for (const warning of warnings) {
      const where = warning.location ? `${warning.location.file}:${warning.location.startLine}: ` : '';
      process.stderr.write(`${where}${warning.rule}: ${warning.message}\n`);
    }
    process.stderr.write(warnings.length === 0 ? 'Check complete, no warnings found.\n' : `Check complete, ${warnings.length} warning${warnings.length === 1 ? ' has' : 's have'} been found!\n`);
    return warnings.length === 0 ? 0 : 1;
  }
  const print = stringFlag(values, 'print');
  if (print !== undefined && print !== 'graph=dot') throw new UsageError(`kiln build: invalid --print "${print}": only graph=dot is supported`);
  // -q: like docker, only the image ID is printed.
  const display = boolFlag(values, 'quiet') ? { sink: { emit: () => undefined }, close: () => undefined } : progressDisplayFor(stringFlag(values, 'progress'));
  let result;
  try {
    result = await new Engine(root).build(request, display.sink, signal);
  } finally {
    display.close();
  }
  const iidfile = stringFlag(values, 'iidfile');
  if (iidfile !== undefined) await writeFile(iidfile, result.manifestDigest);
  if (print === 'graph=dot') process.stdout.write(graphToDot([result.graph.root, ...result.graph.pruned], result.graph.states));
  else process.stdout.write(`${result.manifestDigest}\n`);
  return 0;
}
