// What the last build of a Dockerfile + target did, step by step: the baseline a cache miss is explained against.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../disk/atomic-write.js';
import type { Op, Vertex } from '../llb/types.js';

interface StepRecord {
  readonly op: Op;
  readonly labels: Readonly<Record<string, string>>;
  /** Names of the steps whose results were this step's inputs. */
  readonly inputNames: readonly string[];
  /** Per files label: path → short hash of the file's checksum line (empty when there were too many files). */
  readonly files?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

interface BuildRecordFile {
  readonly steps: Readonly<Record<string, StepRecord>>;
}

/** Compares each keyed step with the same-named step of the previous build and says what changed. */
export class BuildRecord {
  private readonly current: Record<string, StepRecord> = {};

  private constructor(
    private readonly path: string,
    private readonly previous: BuildRecordFile | undefined,
  ) {}

  static async open(dir: string, dockerfilePath: string, target: string | undefined): Promise<BuildRecord> {
    await mkdir(dir, { recursive: true });
    const id = createHash('sha256').update(`${dockerfilePath}\0${target ?? ''}`).digest('hex').slice(0, 32);
    const path = join(dir, `${id}.json`);
    let previous: BuildRecordFile | undefined;
    try {
      previous = JSON.parse(await readFile(path, 'utf8')) as BuildRecordFile;
    } catch {
      previous = undefined;
    }
    return new BuildRecord(path, previous);
  }

  /** Records the step and returns why it differs from last time (undefined when there is no last time). */
  explain(
    vertex: Vertex,
    op: Op,
    labels: Readonly<Record<string, string>>,
    files: Readonly<Record<string, Readonly<Record<string, string>>>> = {},
  ): string | undefined {
    const step: StepRecord = { op, labels, inputNames: vertex.inputs.map((input) => input.name), files };
    this.current[vertex.name] = step;
    if (!this.previous) return undefined;
    const before = this.previous.steps[vertex.name];
    if (!before) return 'new step: the last build of this Dockerfile had no step of this name';
    return describeChange(before, step) ?? 'identical inputs, but the result is no longer in the cache (pruned or built with --no-cache)';
  }

  async save(): Promise<void> {
    const steps = { ...(this.previous?.steps ?? {}), ...this.current };
    await writeFileAtomic(this.path, JSON.stringify({ steps }));
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function envChanges(before: readonly string[], after: readonly string[]): string[] {
  const toMap = (env: readonly string[]): Map<string, string> => new Map(env.map((entry) => [entry.split('=', 1)[0]!, entry.slice(entry.indexOf('=') + 1)]));
  const a = toMap(before);
  const b = toMap(after);
  const names = new Set([...a.keys(), ...b.keys()]);
  return [...names].filter((name) => a.get(name) !== b.get(name)).sort();
}

function describeOpChange(before: Op, after: Op): string | undefined {
  if (before.kind !== after.kind) return `the instruction changed from ${before.kind} to ${after.kind}`;
  if (before.kind === 'exec' && after.kind === 'exec') {
    if (!sameJson(before.args, after.args)) return 'the command changed';
    const env = envChanges(before.env, after.env);
    if (env.length > 0) return `build argument or environment changed: ${env.join(', ')}`;
    if (before.user !== after.user) return `the user changed (${before.user || 'root'} → ${after.user || 'root'})`;
    if (before.cwd !== after.cwd) return `the working directory changed (${before.cwd} → ${after.cwd})`;
    if (before.network !== after.network) return `the network mode changed (${before.network} → ${after.network})`;
    if (!sameJson(before.mounts, after.mounts)) return 'the RUN --mount options changed';
    return sameJson(before, after) ? undefined : 'the RUN options changed';
  }
  return sameJson(before, after) ? undefined : 'the instruction or its flags changed';
}

function describeChange(before: StepRecord, after: StepRecord): string | undefined {
  const opChange = describeOpChange(before.op, after.op);
  if (opChange) return opChange;
  const changed = Object.keys({ ...before.labels, ...after.labels }).filter((label) => before.labels[label] !== after.labels[label]);
  for (const label of changed) {
    if (label.startsWith('files') || label.startsWith('mount')) {
      const which = fileChanges(before.files?.[label], after.files?.[label]);
      return `files selected by this step changed in the build context${which === '' ? '' : `: ${which}`}`;
    }
  }
  for (const label of changed) {
    const index = Number(label.slice('input'.length));
    const name = after.inputNames[index] ?? label;
    if (name.includes('FROM')) return `the base image changed (${name})`;
    return index === 0 ? `the previous step's result changed (${name})` : `its source changed (${name})`;
  }
  return undefined;
}

/** "a.txt changed, b.txt added, c.txt removed" (the first few), or "" when either side has no file list. */
function fileChanges(before: Readonly<Record<string, string>> | undefined, after: Readonly<Record<string, string>> | undefined): string {
  if (!before || !after || Object.keys(before).length === 0 || Object.keys(after).length === 0) return '';
  const notes: string[] = [];
  for (const [path, hash] of Object.entries(after)) {
    if (!(path in before)) notes.push(`${path || '.'} added`);
    else if (before[path] !== hash) notes.push(`${path || '.'} changed`);
  }
  for (const path of Object.keys(before)) if (!(path in after)) notes.push(`${path || '.'} removed`);
  const shown = notes.slice(0, 5);
  const more = notes.length - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}
