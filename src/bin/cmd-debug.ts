// kiln debug parse FILE: the AST in BuildKit's parser-test dump format.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { dumpAst, parseDockerfile } from '../frontend/index.js';
import { parseFlags } from './flags.js';

export async function debugCommand(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'parse') throw new UsageError(`kiln debug: unknown subcommand "${sub ?? ''}" (available: parse)`);
  const { positionals } = parseFlags('debug parse', rest, {});
  if (positionals.length !== 1) throw new UsageError('usage: kiln debug parse FILE');
  const file = positionals[0]!;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`kiln debug parse: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  process.stdout.write(dumpAst(parseDockerfile(text, file)));
  return 0;
}
