// The kiln command line: dispatches to one module per verb, maps errors to exit codes, turns Ctrl-C into cancellation.
import { KilnError, UsageError } from '../errors.js';

const USAGE = `Usage: kiln COMMAND [OPTIONS]

Commands:
  build     Build an image from a Dockerfile
  run       Run a command in a new container from an image
  ps        List running containers (with their health)
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

// Each verb's module is loaded only when it is the one asked for: start-up time is most of a no-op rebuild.
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  build: async () => (await import('./cmd-build.js')).buildCommand,
  run: async () => (await import('./cmd-run.js')).runCommand,
  ps: async () => (await import('./cmd-ps.js')).psCommand,
  images: async () => (await import('./cmd-images.js')).imagesCommand,
  tag: async () => (await import('./cmd-images.js')).tagCommand,
  rmi: async () => (await import('./cmd-images.js')).rmiCommand,
  inspect: async () => (await import('./cmd-images.js')).inspectCommand,
  save: async () => (await import('./cmd-archive.js')).saveCommand,
  load: async () => (await import('./cmd-archive.js')).loadCommand,
  import: async () => (await import('./cmd-archive.js')).importCommand,
  prune: async () => (await import('./cmd-prune.js')).pruneCommand,
  du: async () => (await import('./cmd-prune.js')).duCommand,
  debug: async () => (await import('./cmd-debug.js')).debugCommand,
};

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const loadCommand = COMMANDS[name];
  if (!loadCommand) throw new UsageError(`kiln: unknown command "${name}"\n\n${USAGE}`);
  const command = await loadCommand();
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
