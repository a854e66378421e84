// The digest form of an op (see digest-form.ts), without sorting keys per object: one field table per op shape, sorted once.
import { LIST_DIGEST_MIN, writeDigestForm, writeLongList } from './digest-form.js';
import { type JsonWriter, type ValueWriter, writeList, writeScalar } from './json-writer.js';
import type { ChownSpec, FileAction, Op, Platform, RunMount } from './types.js';

/** Writes exactly the digest form of any value; fast when the value has the shape it was made for. */
type Encoder = ValueWriter;

/** One encoder per field, required for optional fields too: a field added to an op type must be added here. */
type Fields<T> = { readonly [K in keyof T]-?: Encoder };

type Variants<U extends { readonly kind: string }> = { readonly [K in U['kind']]: Fields<Extract<U, { readonly kind: K }>> };

const scalar: Encoder = (w, value) => (typeof value === 'object' && value !== null ? writeDigestForm(w, value) : writeScalar(w, value));

function listOf(item: Encoder): Encoder {
  return (w, value) => {
    if (!Array.isArray(value)) return writeDigestForm(w, value);
    return value.length >= LIST_DIGEST_MIN ? writeLongList(w, value, item) : writeList(w, value, item);
  };
}

/** Which fields of a table a record holds as own enumerable properties, worked out for one list of its own keys. */
interface KeyLayout {
  readonly ownKeys: readonly string[];
  /** By table index. */
  readonly own: readonly boolean[];
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function recordOf<T>(fields: Fields<T>): Encoder {
  const table = fields as Readonly<Record<string, Encoder>>;
  // Sorted like writeDigestForm sorts (UTF-16 code units), with each key's `"key":` written once.
  const keys = Object.keys(table).sort();
  const indexOf = new Map(keys.map((key, i) => [key, i]));
  const encoders = keys.map((key) => table[key]!);
  const heads = keys.map((key) => `${JSON.stringify(key)}:`);
  const commaHeads = heads.map((head) => `,${head}`);
  // Records made by one object literal list the same keys: checking one against the last layout is comparing lists.
  let last: KeyLayout | undefined;
  const layoutOf = (ownKeys: string[]): KeyLayout | undefined => {
    if (last !== undefined && sameKeys(last.ownKeys, ownKeys)) return last;
    const own = keys.map(() => false);
    for (const key of ownKeys) {
      const i = indexOf.get(key);
      // A field the table does not know (an op built outside the types): the record takes the general path.
      if (i === undefined) return undefined;
      own[i] = true;
    }
    last = { ownKeys, own };
    return last;
  };
  return (w, value) => {
    if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return writeDigestForm(w, value);
    const record = value as Readonly<Record<string, unknown>>;
    const layout = layoutOf(Object.keys(record));
    if (layout === undefined) return writeDigestForm(w, value);
    const start = w.length;
    w.ascii('{');
    let written = 0;
    for (let i = 0; i < keys.length; i++) {
      const item = record[keys[i]!];
      if (item === undefined) continue;
      // A field that is defined but not an own enumerable one (hidden or inherited) is one writeDigestForm leaves out.
      if (!layout.own[i]) {
        w.truncate(start);
        return writeDigestForm(w, value);
      }
      w.ascii(written === 0 ? heads[i]! : commaHeads[i]!);
      encoders[i]!(w, item);
      written++;
    }
    w.ascii('}');
  };
}

function byKind<U extends { readonly kind: string }>(variants: Variants<U>): Encoder {
  const table = new Map<string, Encoder>();
  for (const [kind, fields] of Object.entries(variants)) table.set(kind, recordOf(fields as Fields<unknown>));
  return (w, value) => {
    const kind = typeof value === 'object' && value !== null ? (value as { readonly kind?: unknown }).kind : undefined;
    const encoder = typeof kind === 'string' ? table.get(kind) : undefined;
    if (encoder === undefined) writeDigestForm(w, value);
    else encoder(w, value);
  };
}

const strings = listOf(scalar);
const chown = recordOf<ChownSpec>({ user: scalar, group: scalar });
const platform = recordOf<Platform>({ os: scalar, architecture: scalar, variant: scalar });

const fileAction = byKind<FileAction>({
  copy: {
    kind: scalar,
    source: scalar,
    src: strings,
    dest: scalar,
    chown,
    chmod: scalar,
    exclude: strings,
    parents: scalar,
    link: scalar,
    unpackArchives: scalar,
  },
  mkdir: { kind: scalar, path: scalar, mode: scalar, makeParents: scalar, chown },
  mkfile: { kind: scalar, path: scalar, mode: scalar, data: scalar, chown },
});

const runMount = byKind<RunMount>({
  bind: { kind: scalar, target: scalar, source: scalar, from: scalar, readwrite: scalar },
  cache: {
    kind: scalar,
    target: scalar,
    id: scalar,
    sharing: scalar,
    from: scalar,
    source: scalar,
    mode: scalar,
    uid: scalar,
    gid: scalar,
    readonly: scalar,
  },
  tmpfs: { kind: scalar, target: scalar, sizeBytes: scalar },
  secret: { kind: scalar, id: scalar, target: scalar, env: scalar, required: scalar, mode: scalar, uid: scalar, gid: scalar },
  ssh: { kind: scalar, id: scalar, target: scalar, required: scalar },
});

const op = byKind<Op>({
  'source-scratch': { kind: scalar },
  'source-image': { kind: scalar, ref: scalar, platform },
  'source-local': { kind: scalar, name: scalar, exclude: strings },
  exec: {
    kind: scalar,
    args: strings,
    env: strings,
    cwd: scalar,
    user: scalar,
    network: scalar,
    security: scalar,
    mounts: listOf(runMount),
  },
  file: { kind: scalar, actions: listOf(fileAction) },
});

/** The digest form of an op into a writer, byte for byte what writeDigestForm writes. */
export function writeOp(w: JsonWriter, value: Op): void {
  op(w, value);
}
