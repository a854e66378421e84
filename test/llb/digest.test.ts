// Canonical JSON: the bytes every op digest and cache key is computed from.
import { describe, expect, it } from 'vitest';
import { canonicalJson, digestFormJson, makeVertex, renameVertex, sha256Digest } from '../../src/llb/digest.js';
import type { Op } from '../../src/llb/types.js';

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined fields', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x', { z: null, y: undefined }], c: true } })).toBe('{"a":{"c":true,"d":[1,"x",{"z":null}]},"b":1}');
  });

  it('escapes strings exactly like JSON and writes undefined array items as null', () => {
    expect(canonicalJson(['a"b', '\u0000', undefined, 'é'])).toBe('["a\\"b","\\u0000",null,"é"]');
  });

  it('orders keys by UTF-16 code units, not locale', () => {
    expect(canonicalJson({ b: 0, B: 0, a: 0, _: 0, '10': 0, '9': 0 })).toBe('{"10":0,"9":0,"B":0,"_":0,"a":0,"b":0}');
  });

  it('gives equal digests to equal ops whatever their key order, and different ones otherwise', () => {
    const a = makeVertex({ kind: 'source-local', name: 'context', exclude: ['x'] }, [], 'one');
    const b = makeVertex(JSON.parse('{"exclude":["x"],"name":"context","kind":"source-local"}'), [], 'two');
    const c = makeVertex({ kind: 'source-local', name: 'context', exclude: ['y'] }, [], 'one');
    expect(a.digest).toBe(b.digest);
    expect(a.digest).not.toBe(c.digest);
  });
});

describe('op digests', () => {
  const root = makeVertex({ kind: 'source-image', ref: 'busybox', platform: { os: 'linux', architecture: 'amd64' } }, [], 'base');
  const ops: Op[] = [
    { kind: 'source-scratch' },
    { kind: 'source-image', ref: 'busybox', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    { kind: 'source-local', name: 'context', exclude: ['*.log', 'node_modules'] },
    {
      kind: 'exec',
      args: ['/bin/sh', '-c', 'echo "$HOME" \\ \u0001 \u2028 😀 \ud800'],
      env: Array.from({ length: 12 }, (_, i) => `K${i}=v ${i}`),
      cwd: '/w',
      user: '',
      network: 'none',
      security: 'sandbox',
      mounts: [
        { kind: 'bind', target: '/b', source: '/', from: 1, readwrite: false },
        { kind: 'cache', target: '/c', id: 'c', sharing: 'locked', source: '/', mode: 0o755, uid: 0, gid: 0, readonly: false },
        { kind: 'tmpfs', target: '/t', sizeBytes: 1.5e9 },
        { kind: 'tmpfs', target: '/t2' },
        { kind: 'secret', id: 's', env: 'TOKEN', required: true, mode: 0o400, uid: 1, gid: 2 },
        { kind: 'ssh', id: 'default', required: false },
      ],
    },
    {
      kind: 'file',
      actions: [
        {
          kind: 'copy',
          source: 1,
          src: ['a', 'b*'],
          dest: '/d/',
          chown: { user: 'app' },
          chmod: 'u+x',
          exclude: [],
          parents: false,
          link: true,
          unpackArchives: false,
        },
        { kind: 'mkdir', path: '/x', mode: 0o755, makeParents: true, chown: { user: '1', group: '2' } },
        { kind: 'mkfile', path: '/x/f', mode: 0o644, data: 'line\n\t"quoted"\n' },
      ],
    },
  ];

  it('hashes exactly the digest form of the op and its input digests, for every kind of op', () => {
    for (const op of ops) {
      const vertex = makeVertex(op, [root], 'step');
      expect(vertex.digest).toBe(sha256Digest(digestFormJson({ op, inputs: [root.digest] })));
    }
  });

  it('writes a list of 8 or more items as the digest of its own form, and shorter lists in full', () => {
    const long = Array.from({ length: 8 }, (_, i) => `K${i}=v`);
    const short = long.slice(0, 7);
    expect(digestFormJson({ env: short })).toBe(canonicalJson({ env: short }));
    expect(digestFormJson({ env: long })).toBe(`{"env":"${sha256Digest(canonicalJson(long))}"}`);
    // Nested: the outer list's form holds the inner list's stand-in.
    const nested = [long, 1, 2, 3, 4, 5, 6, 7];
    expect(digestFormJson(nested)).toBe(`"${sha256Digest(`["${sha256Digest(canonicalJson(long))}",1,2,3,4,5,6,7]`)}"`);
    // Canonical JSON (what cache keys hash) keeps every byte of the same list.
    expect(canonicalJson({ env: long })).toBe(`{"env":${JSON.stringify(long)}}`);
  });

  it('gives a RUN with a long environment the digest of its spelled-out form, and a new one when one entry changes', () => {
    const env = Array.from({ length: 12 }, (_, i) => `K${i}=v ${i}`);
    const exec = (list: readonly string[]): Op => ({ kind: 'exec', args: ['/bin/true'], env: list, cwd: '/', user: '', network: 'default', security: 'sandbox', mounts: [] });
    const spelled =
      `{"inputs":["${root.digest}"],"op":{"args":["/bin/true"],"cwd":"/","env":"${sha256Digest(JSON.stringify(env))}",` +
      `"kind":"exec","mounts":[],"network":"default","security":"sandbox","user":""}}`;
    expect(makeVertex(exec(env), [root], 'run').digest).toBe(sha256Digest(spelled));
    const changed = env.map((e, i) => (i === 11 ? 'K11=v 12' : e));
    expect(makeVertex(exec(changed), [root], 'run').digest).not.toBe(makeVertex(exec(env), [root], 'run').digest);
    // The list is frozen once its digest is known: changing it in place would leave a stale digest behind.
    expect(Object.isFrozen(env)).toBe(true);
  });

  it('writes 8 or more inputs as the digest of their list, like any long list', () => {
    const inputs = Array.from({ length: 9 }, (_, i) => makeVertex({ kind: 'source-local', name: `c${i}`, exclude: [] }, [], `c${i}`));
    const op: Op = { kind: 'source-scratch' };
    const digests = inputs.map((v) => v.digest);
    expect(makeVertex(op, inputs, 'x').digest).toBe(sha256Digest(`{"inputs":"${sha256Digest(JSON.stringify(digests))}","op":{"kind":"source-scratch"}}`));
    expect(makeVertex(op, inputs.slice(0, 7), 'x').digest).toBe(sha256Digest(canonicalJson({ inputs: digests.slice(0, 7), op })));
  });

  it('takes fields the op types do not know into the digest', () => {
    const plain: Op = { kind: 'source-local', name: 'context', exclude: [] };
    const extra = { ...plain, note: 'x' } as Op;
    expect(makeVertex(extra, [], 'x').digest).toBe(sha256Digest(digestFormJson({ op: extra, inputs: [] })));
    expect(makeVertex(extra, [], 'x').digest).not.toBe(makeVertex(plain, [], 'x').digest);
  });

  it('leaves undefined fields and non-enumerable fields out, as canonicalJson does', () => {
    const withUndefined = { kind: 'source-image', ref: 'busybox', platform: { os: 'linux', architecture: 'amd64', variant: undefined } } as Op;
    const hidden = Object.defineProperty({ kind: 'source-scratch' }, 'secret', { value: 'x', enumerable: false }) as Op;
    expect(makeVertex(withUndefined, [], 'x').digest).toBe(makeVertex({ kind: 'source-image', ref: 'busybox', platform: { os: 'linux', architecture: 'amd64' } }, [], 'x').digest);
    expect(makeVertex(hidden, [], 'x').digest).toBe(makeVertex({ kind: 'source-scratch' }, [], 'x').digest);
    // One unknown field and one hidden known field: the field counts agree, the fields do not.
    const both = Object.defineProperty({ kind: 'source-local', exclude: [], extra: 'y' }, 'name', { value: 'n', enumerable: false }) as Op;
    expect(makeVertex(both, [], 'x').digest).toBe(sha256Digest(digestFormJson({ op: both, inputs: [] })));
  });

  it('hashes the digest form of records whatever shape came before them (same keys, other order, hidden or undefined fields)', () => {
    const platform = { os: 'linux', architecture: 'amd64' };
    const hiddenPlatform = Object.defineProperty({ kind: 'source-image', ref: 'busybox' }, 'platform', { value: platform, enumerable: false });
    const sequence = [
      { kind: 'source-image', ref: 'busybox', platform },
      { ref: 'busybox', platform, kind: 'source-image' },
      hiddenPlatform,
      { kind: 'source-image', ref: 'busybox', platform: { ...platform, variant: undefined } },
      { kind: 'source-image', ref: 'busybox', platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
      { kind: 'source-image', ref: 'busybox', platform },
      hiddenPlatform,
    ] as Op[];
    for (const op of sequence) expect(makeVertex(op, [], 'x').digest).toBe(sha256Digest(digestFormJson({ op, inputs: [] })));
  });

  it('renames a vertex without touching its op, inputs or digest, and drops the old location', () => {
    const location = { file: 'Dockerfile', startLine: 1, endLine: 1 };
    const image = makeVertex({ kind: 'source-image', ref: 'busybox', platform: { os: 'linux', architecture: 'amd64' } }, [], 'a', { location, stage: 's' });
    const again = renameVertex(image, 'b', { location: { file: 'Dockerfile', startLine: 7, endLine: 7 } });
    expect(again).toEqual({ digest: image.digest, op: image.op, inputs: image.inputs, name: 'b', location: { file: 'Dockerfile', startLine: 7, endLine: 7 } });
    expect(again.digest).toBe(makeVertex(image.op, [], 'c').digest);
  });

  it('keeps the digest of a fixed op from changing between releases', () => {
    const op: Op = { kind: 'source-local', name: 'context', exclude: ['x'] };
    expect(makeVertex(op, [], 'x').digest).toBe(sha256Digest('{"inputs":[],"op":{"exclude":["x"],"kind":"source-local","name":"context"}}'));
    expect(sha256Digest('abc')).toBe('sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('JSON strings', () => {
  it('writes strings exactly like JSON.stringify, escapes and lone surrogates included', () => {
    const samples = ['', 'plain', 'a"b', 'back\\slash', '\u0000\u001f\u007f', 'tab\tnew\nline', '\u2028\u2029', 'é😀', '\ud800', 'x\udfff', '\ud83d\ude00'];
    for (const s of samples) {
      expect(canonicalJson(s)).toBe(JSON.stringify(s));
      expect(digestFormJson(s)).toBe(JSON.stringify(s));
    }
  });
});
