// The kiln command line: dispatches to one module per verb, maps errors to exit codes, turns Ctrl-C into cancellation.
import { KilnError, UsageError } from '../errors.js';
import { buildCommand } from './cmd-build.js';
import { importCommand, loadCommand, saveCommand } from './cmd-archive.js';
import { debugCommand } from './cmd-debug.js';
import { imagesCommand, inspectCommand, rmiCommand, tagCommand } from './cmd-images.js';
import { runCommand } from './cmd-run.js';
import { duCommand, pruneCommand } from './cmd-prune.js';

const USAGE = `Usage: kiln COMMAND [OPTIONS]

Commands:
  build     Build an image from a Dockerfile
  run       Run a command in a new container from an image
  images    List images
  tag       Give an image another name
  rmi       Remove image names
  inspect   Show an image's manifest and config
  save      Write images to an OCI (or --format docker) tar archive
  load      Read images from an OCI or Docker tar archive
  import    Make a one-layer image from a root filesystem (tarball or directory)
  prune     Remove build cache (--all, --keep-storage SIZE, --filter until=DURATION)
  du        Show disk usage of images, snapshots and build cache
  debug     parse FILE: print a Dockerfile's syntax tree

Environment: KILN_ROOT (default /var/lib/kiln for root)
`;

type Command = (args: readonly string[], signal: AbortSignal) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  build: buildCommand,
  run: runCommand,
  images: imagesCommand,
  tag: tagCommand,
  rmi: rmiCommand,
  inspect: inspectCommand,
  save: saveCommand,
  load: loadCommand,
  import: importCommand,
  debug: debugCommand,
  prune: pruneCommand,
  du: duCommand,
};

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`kiln: unknown command "${name}"\n\n${USAGE}`);
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    // The first Ctrl-C cancels cleanly (containers killed, snapshots discarded); a second one gives up waiting.
    if (interrupts > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
    controller.abort();
  };
  // kiln run forwards signals to its container itself; every other command cancels on the first one.
  if (name !== 'run') {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return command(args, controller.signal);
}

// `kiln images | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof KilnError) {
      process.stderr.write(`kiln: error: ${error.message}\n`);
      process.exitCode = error.exitCode;
    } else {
      process.stderr.write(`kiln: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
