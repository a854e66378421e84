// Canonical JSON: the bytes every op digest and cache key is computed from.
import { describe, expect, it } from 'vitest';
import { canonicalJson, makeVertex } from '../../src/llb/digest.js';

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
