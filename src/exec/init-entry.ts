// How an init (or the fork server) is started: its entry script, its environment and its fds.
import path from 'node:path';
import { builtFile, kilnDistDir } from './host-tools.js';
import type { PipeDirection } from './pipe-spawn.js';

/**
 * A minimal environment: NODE_OPTIONS or NODE_EXTRA_CA_CERTS would cost start-up time on every init, and so does
 * reading OpenSSL's config file (~2.5 ms), which the init never needs (it makes no TLS calls).
 */
export const INIT_ENV: Readonly<Record<string, string>> = { OPENSSL_CONF: '/dev/null' };

/** The init's fds: stdin, stdout, diagnostics, status, the command's stderr, control (see docs/exec.md). */
export const INIT_PIPES: readonly PipeDirection[] = ['in', 'out', 'out', 'out', 'out', 'in'];

/**
 * The init's entry: bin/kiln-init.cjs, which runs the one-file bundle dist/exec/init.cjs from a V8 code cache.
 * Called from TypeScript sources (tests), from dist/exec/ (tsc output) or from dist/ (the CLI bundle).
 */
export function initScriptPath(): string {
  builtFile(path.join('exec', 'init.cjs'), 'container init');
  return path.join(kilnDistDir(), '..', 'bin', 'kiln-init.cjs');
}
