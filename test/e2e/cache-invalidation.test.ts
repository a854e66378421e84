// Table-driven proof that an edit invalidates exactly the steps that read it and their descendants.
import { appendFile, chmod, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBusybox, makeContext, makeKilnRoot, runKiln } from '../helpers/kiln.js';

// The app RUN appends a fresh uuid, so each run of it yields a new /main.out: whether the steps after
// COPY --from=app rerun must not hang on whether two runs wrote their output within the same tar-mtime second.
const DOCKERFILE = `FROM busybox AS app
COPY app/ /app/
RUN cat /app/main.txt /proc/sys/kernel/random/uuid > /main.out

FROM busybox AS docs
COPY docs/*.md /docs/
RUN ls /docs > /docs.list

FROM busybox
ARG VERSION=1
COPY conf.txt /conf.txt
RUN echo "$VERSION" > /version
COPY --from=app /main.out /main.out
COPY --from=docs /docs.list /docs.list
`;

const APP_COPY = 'COPY app/ /app/';
const APP_RUN = 'RUN cat /app/main.txt';
const DOCS_COPY = 'COPY docs/*.md /docs/';
const DOCS_RUN = 'RUN ls /docs';
const CONF_COPY = 'COPY conf.txt /conf.txt';
// BuildKit shows RUN with the build env expanded ("RUN echo \"1\" > /version"), so match the stable tail.
const VERSION_RUN = '> /version';
const FROM_APP = 'COPY --from=app';
const FROM_DOCS = 'COPY --from=docs';

let root: string;
let context: string;

/** The instructions (by the texts above) that ran rather than came from the cache. */
function ranSteps(stderr: string): string[] {
  const names = new Map<string, string>();
  const ran: string[] = [];
  for (const line of stderr.split('\n')) {
    const header = /^#(\d+) (\[.*?\] .*?)(?: {2}\(.*\))?$/.exec(line);
    if (header && !names.has(header[1]!)) names.set(header[1]!, header[2]!);
    const done = /^#(\d+) DONE/.exec(line);
    if (done) ran.push(names.get(done[1]!)!);
  }
  const known = [APP_COPY, APP_RUN, DOCS_COPY, DOCS_RUN, CONF_COPY, VERSION_RUN, FROM_APP, FROM_DOCS];
  return ran.filter((name) => !name.includes('FROM')).map((name) => known.find((text) => name.includes(text)) ?? name).sort();
}

async function build(args: readonly string[] = []): Promise<string[]> {
  const result = await runKiln(['build', '--progress=plain', ...args, context], { root });
  expect(result.code, result.stderr).toBe(0);
  return ranSteps(result.stderr);
}

interface EditCase {
  readonly edit: string;
  readonly apply: () => Promise<void>;
  readonly args?: readonly string[];
  readonly reruns: readonly string[];
}

const at = (name: string): string => join(context, name);
const later = (): Date => new Date(Date.now() + 3_600_000);

const CASES: readonly EditCase[] = [
  { edit: 'nothing', apply: async () => undefined, reruns: [] },
  { edit: 'touch a copied file', apply: () => utimes(at('app/main.txt'), later(), later()), reruns: [] },
  { edit: 'change a copied file', apply: () => appendFile(at('app/main.txt'), 'more\n'), reruns: [APP_COPY, APP_RUN, FROM_APP, FROM_DOCS] },
  { edit: 'add a file inside a copied directory', apply: () => writeFile(at('app/extra.txt'), 'extra\n'), reruns: [APP_COPY, APP_RUN, FROM_APP, FROM_DOCS] },
  { edit: 'change a file the .dockerignore excludes', apply: () => writeFile(at('app/debug.log'), `log ${Date.now()}\n`), reruns: [] },
  { edit: 'change the mode of a copied file', apply: () => chmod(at('app/extra.txt'), 0o600), reruns: [APP_COPY, APP_RUN, FROM_APP, FROM_DOCS] },
  { edit: 'change a file one wildcard selects', apply: () => appendFile(at('docs/a.md'), 'more\n'), reruns: [DOCS_COPY, DOCS_RUN, FROM_DOCS] },
  { edit: 'add a file the wildcard does not match', apply: () => writeFile(at('docs/notes.txt'), 'notes\n'), reruns: [] },
  { edit: 'add a file the wildcard matches', apply: () => writeFile(at('docs/b.md'), 'b\n'), reruns: [DOCS_COPY, DOCS_RUN, FROM_DOCS] },
  { edit: 'change a file no step reads', apply: () => writeFile(at('README.md'), `readme ${Date.now()}\n`), reruns: [] },
  { edit: 'change a file of the final stage', apply: () => appendFile(at('conf.txt'), 'more\n'), reruns: [CONF_COPY, VERSION_RUN, FROM_APP, FROM_DOCS] },
  { edit: 'change only a Dockerfile comment', apply: () => writeFile(at('Dockerfile'), `# a new comment\n${DOCKERFILE}`), reruns: [] },
  { edit: 'rename a copied file', apply: () => rename(at('app/extra.txt'), at('app/renamed.txt')), reruns: [APP_COPY, APP_RUN, FROM_APP, FROM_DOCS] },
  { edit: 'remove a copied file', apply: () => rm(at('app/initial.txt')), reruns: [APP_COPY, APP_RUN, FROM_APP, FROM_DOCS] },
  { edit: 'change a build argument that a RUN consumes', apply: async () => undefined, args: ['--build-arg', 'VERSION=2'], reruns: [VERSION_RUN, FROM_APP, FROM_DOCS] },
];

beforeAll(async () => {
  root = await makeKilnRoot();
  await importBusybox(root);
  context = await makeContext({
    Dockerfile: DOCKERFILE,
    '.dockerignore': 'app/*.log\n',
    'app/main.txt': 'main\n',
    // Present from the start, so removing it makes a context state no earlier build saw.
    'app/initial.txt': 'initial\n',
    'docs/a.md': 'a\n',
    'conf.txt': 'conf\n',
    'README.md': 'readme\n',
  });
  await build();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(context, { recursive: true, force: true });
});

describe('cache invalidation', () => {
  it('has at least ten edit cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(10);
  });

  for (const testCase of CASES) {
    it(`${testCase.edit} reruns ${testCase.reruns.length === 0 ? 'nothing' : testCase.reruns.join(', ')}`, async () => {
      await testCase.apply();
      expect(await build(testCase.args)).toEqual([...testCase.reruns].sort());
    });
  }
});
