// Dockerfile problems through the CLI: `kiln debug parse` and `kiln build` point at FILE:LINE:COL, quote the line,
// exit with the documented code, and never run a step or touch the image store.
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runKiln, useKilnRoot } from '../helpers/kiln.js';

const PARSER_TESTFILES = resolve(repoRoot, '..', 'shared', 'conformance', 'buildkit', 'frontend', 'dockerfile', 'parser', 'testfiles');

const kiln = useKilnRoot();

function contextWith(files: Record<string, string>): Promise<string> {
  return kiln.context(files);
}

/** What a build could change: the image index, the blobs, the unpacked snapshots and the cache records. */
async function storeState(): Promise<string> {
  const list = async (dir: string): Promise<string[]> => (await readdir(join(kiln.root, dir)).catch(() => [] as string[])).sort();
  const index = await readFile(join(kiln.root, 'images', 'index.json'), 'utf8');
  return JSON.stringify({ index, blobs: await list('content/blobs/sha256'), snapshots: await list('snapshots/committed'), cache: await list('cache') });
}

describe('kiln debug parse', () => {
  it.each(['escape-with-syntax', 'lk4d4-the-edge-case-generator'])('prints the BuildKit dump of the conformance file %s byte for byte', async (name) => {
    const dockerfile = join(PARSER_TESTFILES, name, 'Dockerfile');
    const expected = await readFile(join(PARSER_TESTFILES, name, 'result'), 'utf8');
    const result = await runKiln(['debug', 'parse', dockerfile], { root: kiln.root });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(expected);
  });

  it('prints heredoc instructions the way BuildKit dumps them (the body is not part of the dump)', async () => {
    const dir = await contextWith({ Dockerfile: 'FROM busybox\nRUN <<EOF <<EOT\na\nEOF\nb\nEOT\nCOPY <<EOF /x\nc\nEOF\n' });
    const result = await runKiln(['debug', 'parse', join(dir, 'Dockerfile')], { root: kiln.root });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('(from "busybox")\n(run "<<EOF <<EOT")\n(copy "<<EOF" "/x")\n');
  });

  it('exits 1 with FILE:LINE:COL and the source line when the file does not parse', async () => {
    const dir = await contextWith({ 'bad.Dockerfile': 'FROM busybox\n\nRUN <<EOF\necho never closed\n' });
    const file = join(dir, 'bad.Dockerfile');
    const result = await runKiln(['debug', 'parse', file], { root: kiln.root });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`${file}:3:5: unterminated heredoc`);
    expect(result.stderr.split('\n')).toContain('  3 | RUN <<EOF');
  });

  it('exits 1 on a bad escape directive and on a file without instructions', async () => {
    const dir = await contextWith({ escape: '# escape=x\nFROM busybox\n', empty: '# only a comment\n' });
    const escape = await runKiln(['debug', 'parse', join(dir, 'escape')], { root: kiln.root });
    expect(escape.code).toBe(1);
    expect(escape.stderr).toContain(`${join(dir, 'escape')}:1:1: invalid escape token 'x'`);
    const empty = await runKiln(['debug', 'parse', join(dir, 'empty')], { root: kiln.root });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('file with no instructions');
  });

  it('exits 2 on usage errors: no file, two files, an unknown subcommand or flag, an unreadable file', async () => {
    for (const args of [['debug', 'parse'], ['debug', 'parse', 'a', 'b'], ['debug', 'frobnicate', 'x'], ['debug', 'parse', '--bogus', 'x'], ['debug', 'parse', '/nonexistent/Dockerfile']]) {
      const result = await runKiln(args, { root: kiln.root });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^kiln: error: /);
    }
  });
});

interface ErrorCase {
  readonly name: string;
  readonly dockerfile: string;
  /** The whole `FILE:LINE:COL: message` start of the error. */
  readonly error: string | RegExp;
  /** The quoted source line: its number and text. */
  readonly line?: readonly [number, string];
  readonly args?: readonly string[];
}

// Each Dockerfile starts with a RUN that would print RAN and add a layer if anything were executed.
const PRELUDE = 'FROM busybox AS builder\nRUN echo RAN-$((6*7)) > /ran\n';

const ERROR_CASES: readonly ErrorCase[] = [
  { name: 'an unknown instruction keeps the user\'s casing and suggests the real one', dockerfile: `${PRELUDE}  Runn echo hi\n`, error: 'Dockerfile:3:3: unknown instruction: Runn (did you mean RUN?)', line: [3, '  Runn echo hi'] },
  { name: 'an unknown flag suggests the real flag', dockerfile: `${PRELUDE}COPY --fro=builder /ran /x\n`, error: 'Dockerfile:3:1: unknown flag: fro (did you mean from?)', line: [3, 'COPY --fro=builder /ran /x'] },
  { name: 'a flag without its value', dockerfile: `${PRELUDE}COPY --chown a b\n`, error: 'Dockerfile:3:1: missing a value on flag: chown', line: [3, 'COPY --chown a b'] },
  { name: 'a malformed --mount key', dockerfile: `${PRELUDE}RUN --mount=typo=cache true\n`, error: "Dockerfile:3:1: unexpected key 'typo' in 'typo=cache' (did you mean type?)", line: [3, 'RUN --mount=typo=cache true'] },
  { name: 'too few arguments to COPY', dockerfile: `${PRELUDE}COPY onlyone\n`, error: 'Dockerfile:3:1: COPY requires at least two arguments', line: [3, 'COPY onlyone'] },
  { name: 'USER without an argument', dockerfile: `${PRELUDE}USER\n`, error: 'Dockerfile:3:1: USER requires exactly one argument', line: [3, 'USER'] },
  { name: 'FROM with two arguments', dockerfile: `${PRELUDE}FROM busybox builder\n`, error: 'Dockerfile:3:1: FROM requires either one or three arguments', line: [3, 'FROM busybox builder'] },
  { name: 'an unterminated heredoc points at the <<', dockerfile: `${PRELUDE}RUN <<EOF\necho never closed\n`, error: 'Dockerfile:3:5: unterminated heredoc', line: [3, 'RUN <<EOF'] },
  { name: 'line numbers count heredoc bodies and comments', dockerfile: `${PRELUDE}RUN <<EOF\ntrue\nEOF\n# comment\nfrob x\n`, error: 'Dockerfile:7:1: unknown instruction: frob (did you mean FROM?)', line: [7, 'frob x'] },
  { name: 'an instruction before any FROM', dockerfile: 'RUN echo RAN\nFROM busybox\n', error: 'Dockerfile:1:1: no build stage in current context', line: [1, 'RUN echo RAN'] },
  { name: 'a Dockerfile with only ARGs', dockerfile: 'ARG X=1\n', error: 'Dockerfile:1:1: dockerfile contains no stages to build', line: [1, 'ARG X=1'] },
  { name: 'a duplicate stage name', dockerfile: `${PRELUDE}FROM busybox AS Builder\n`, error: 'Dockerfile:3:1: duplicate stage name "builder", stage names should be unique', line: [3, 'FROM busybox AS Builder'] },
  { name: 'an invalid stage name', dockerfile: `${PRELUDE}FROM busybox AS 1bad\n`, error: 'Dockerfile:3:1: invalid name for build stage: "1bad"', line: [3, 'FROM busybox AS 1bad'] },
  {
    name: 'an unknown --from is an image (like BuildKit) that is not found, with a stage suggestion',
    dockerfile: `${PRELUDE}FROM busybox\nCOPY --from=buidler /ran /ran\n`,
    error: /^kiln: error: Dockerfile:4:1: failed to resolve image "buidler": .*not found.*\(did you mean stage "builder"\?\)$/m,
    line: [4, 'COPY --from=buidler /ran /ran'],
  },
  { name: 'an unknown base image', dockerfile: `${PRELUDE}FROM nosuchbase:1\nRUN echo RAN\n`, error: /^kiln: error: Dockerfile:3:1: failed to resolve image "nosuchbase:1": /m, line: [3, 'FROM nosuchbase:1'] },
  {
    name: 'a circular --from',
    dockerfile: 'FROM busybox AS a\nRUN echo RAN\nCOPY --from=b /x /y\nFROM busybox AS b\nCOPY --from=a /x /y\n',
    error: 'Dockerfile:5:1: circular dependency detected on stage: a',
    line: [5, 'COPY --from=a /x /y'],
  },
  { name: 'a HEALTHCHECK duration without a unit', dockerfile: `${PRELUDE}HEALTHCHECK --interval=5 CMD true\n`, error: 'Dockerfile:3:1: time: missing unit in duration "5"', line: [3, 'HEALTHCHECK --interval=5 CMD true'] },
  { name: 'a HEALTHCHECK duration that is not one', dockerfile: `${PRELUDE}HEALTHCHECK --timeout=soon CMD true\n`, error: 'Dockerfile:3:1: time: invalid duration "soon"', line: [3, 'HEALTHCHECK --timeout=soon CMD true'] },
  { name: 'an undefined ${V:?message}', dockerfile: `${PRELUDE}WORKDIR \${V:?set_V_first}\n`, error: 'Dockerfile:3:1: failed to process "${V:?set_V_first}": V: set_V_first', line: [3, 'WORKDIR ${V:?set_V_first}'] },
  { name: 'an undefined ${V:?message} in FROM', dockerfile: 'ARG BASE\nFROM ${BASE:?need_a_base}\nRUN echo RAN\n', error: 'Dockerfile:2:1: failed to process "${BASE:?need_a_base}": BASE: need_a_base', line: [2, 'FROM ${BASE:?need_a_base}'] },
  { name: 'ADD from a URL is not supported yet', dockerfile: `${PRELUDE}ADD http://example.com/file.txt /x\n`, error: 'Dockerfile:3:1: ADD from a URL is not supported yet: http://example.com/file.txt', line: [3, 'ADD http://example.com/file.txt /x'] },
  { name: 'an invalid --chmod', dockerfile: `${PRELUDE}COPY --chmod=999 Dockerfile /x\n`, error: "Dockerfile:3:1: invalid chmod parameter: '999'", line: [3, 'COPY --chmod=999 Dockerfile /x'] },
  { name: 'an invalid STOPSIGNAL', dockerfile: `${PRELUDE}STOPSIGNAL SIGFOO\n`, error: 'Dockerfile:3:1: Invalid signal: SIGFOO', line: [3, 'STOPSIGNAL SIGFOO'] },
  {
    name: 'a # syntax= naming another frontend is refused rather than built with the built-in one',
    dockerfile: `# syntax=example.com/my/frontend:1\n${PRELUDE}`,
    error: 'Dockerfile:1:1: custom frontend "example.com/my/frontend:1" is not supported',
    line: [1, '# syntax=example.com/my/frontend:1'],
  },
  { name: 'a -f file keeps its own name in the position', dockerfile: `${PRELUDE}runn x\n`, error: 'custom.Dockerfile:3:1: unknown instruction: runn (did you mean RUN?)', line: [3, 'runn x'], args: ['-f', 'custom.Dockerfile'] },
];

describe('kiln build errors in the Dockerfile', () => {
  it.each(ERROR_CASES)('$name', async ({ dockerfile, error, line, args = [] }) => {
    const usesFile = args.includes('-f');
    const dir = await contextWith({ [usesFile ? 'custom.Dockerfile' : 'Dockerfile']: dockerfile });
    const before = await storeState();
    const result = await runKiln(['build', '--progress=plain', '-t', 'must-not-exist', ...args.map((arg) => (arg === 'custom.Dockerfile' ? join(dir, arg) : arg)), dir], { root: kiln.root });
    expect(result.code, result.stderr).toBe(1);
    if (typeof error === 'string') {
      const expected = usesFile ? `${join(dir, error)}` : error;
      expect(result.stderr).toContain(`kiln: error: ${expected}`);
    } else {
      expect(result.stderr).toMatch(error);
    }
    if (line) expect(result.stderr.split('\n')).toContain(`  ${line[0]} | ${line[1]}`);
    expect(result.stderr).not.toContain('RAN-42');
    expect(result.stderr).not.toMatch(/^#\d+ /m);
    expect(result.stdout).toBe('');
    expect(await storeState()).toBe(before);
  });

  it('an unknown --target is a usage error (exit 2) naming the target, and runs nothing', async () => {
    const dir = await contextWith({ Dockerfile: `${PRELUDE}FROM busybox AS final\n` });
    const before = await storeState();
    const result = await runKiln(['build', '--progress=plain', '--target', 'finl', dir], { root: kiln.root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('target stage "finl" could not be found');
    expect(result.stderr).not.toContain('RAN-42');
    expect(await storeState()).toBe(before);
  });
});
