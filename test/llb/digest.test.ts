// Canonical JSON: the bytes every op digest and cache key is computed from.
import { describe, expect, it } from 'vitest';
import { jsonString } from '../../src/llb/canonical-json.js';
import { canonicalJson, makeVertex, sha256Digest } from '../../src/llb/digest.js';
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

  it('hashes exactly the canonical JSON of the op and its input digests, for every kind of op', () => {
    for (const op of ops) {
      const vertex = makeVertex(op, [root], 'step');
      expect(vertex.digest).toBe(sha256Digest(canonicalJson({ op, inputs: [root.digest] })));
    }
  });

  it('takes fields the op types do not know into the digest', () => {
    const plain: Op = { kind: 'source-local', name: 'context', exclude: [] };
    const extra = { ...plain, note: 'x' } as Op;
    expect(makeVertex(extra, [], 'x').digest).toBe(sha256Digest(canonicalJson({ op: extra, inputs: [] })));
    expect(makeVertex(extra, [], 'x').digest).not.toBe(makeVertex(plain, [], 'x').digest);
  });

  it('leaves undefined fields and non-enumerable fields out, as canonicalJson does', () => {
    const withUndefined = { kind: 'source-image', ref: 'busybox', platform: { os: 'linux', architecture: 'amd64', variant: undefined } } as Op;
    const hidden = Object.defineProperty({ kind: 'source-scratch' }, 'secret', { value: 'x', enumerable: false }) as Op;
    expect(makeVertex(withUndefined, [], 'x').digest).toBe(makeVertex({ kind: 'source-image', ref: 'busybox', platform: { os: 'linux', architecture: 'amd64' } }, [], 'x').digest);
    expect(makeVertex(hidden, [], 'x').digest).toBe(makeVertex({ kind: 'source-scratch' }, [], 'x').digest);
    // One unknown field and one hidden known field: the field counts agree, the fields do not.
    const both = Object.defineProperty({ kind: 'source-local', exclude: [], extra: 'y' }, 'name', { value: 'n', enumerable: false }) as Op;
    expect(makeVertex(both, [], 'x').digest).toBe(sha256Digest(canonicalJson({ op: both, inputs: [] })));
  });

  it('keeps the digest of a fixed op from changing between releases (cache keys depend on it)', () => {
    const op: Op = { kind: 'source-local', name: 'context', exclude: ['x'] };
    expect(makeVertex(op, [], 'x').digest).toBe(sha256Digest('{"inputs":[],"op":{"exclude":["x"],"kind":"source-local","name":"context"}}'));
    expect(sha256Digest('abc')).toBe('sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('jsonString', () => {
  it('writes strings exactly like JSON.stringify, escapes and lone surrogates included', () => {
    const samples = ['', 'plain', 'a"b', 'back\\slash', '\u0000\u001f\u007f', 'tab\tnew\nline', '\u2028\u2029', 'é😀', '\ud800', 'x\udfff', '\ud83d\ude00'];
    for (const s of samples) expect(jsonString(s)).toBe(JSON.stringify(s));
  });
});
