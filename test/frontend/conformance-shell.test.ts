// BuildKit's shell expansion vectors (envVarTest, wordsTest), run exactly per shared/conformance/README.md §4–5.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expandWord, expandWords } from '../../src/frontend/shell-lexer.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const shellDir = resolve(repoRoot, '../shared/conformance/buildkit/frontend/dockerfile/shell');

interface EnvVarVector {
  readonly line: number;
  readonly platform: 'A' | 'U' | 'W';
  readonly input: string;
  readonly expected: string;
}

function readEnvVarVectors(): EnvVarVector[] {
  const text = readFileSync(resolve(shellDir, 'envVarTest'), 'utf8');
  const vectors: EnvVarVector[] = [];
  text.split('\n').forEach((raw, index) => {
    if (raw.startsWith('#')) return;
    const line = raw.trim();
    if (line === '') return;
    const fields = line.split('|');
    if (fields.length !== 3) throw new Error(`envVarTest line ${index + 1}: expected 3 fields, got ${fields.length}`);
    const [platform, input, expected] = fields.map((f) => f.trim()) as [string, string, string];
    if (platform !== 'A' && platform !== 'U' && platform !== 'W') throw new Error(`envVarTest line ${index + 1}: bad platform ${platform}`);
    vectors.push({ line: index + 1, platform, input, expected });
  });
  return vectors;
}

interface WordsVector {
  readonly line: number;
  readonly input: string;
  readonly expected: readonly string[];
  readonly env: ReadonlyMap<string, string>;
}

function readWordsVectors(): WordsVector[] {
  const text = readFileSync(resolve(shellDir, 'wordsTest'), 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const env = new Map<string, string>();
  const vectors: WordsVector[] = [];
  lines.forEach((raw, index) => {
    if (raw.startsWith('#')) return;
    if (raw === '') throw new Error(`wordsTest line ${index + 1}: blank lines are not allowed`);
    if (raw.startsWith('ENV ')) {
      const rest = raw.slice(4).replace(/^ +/, '');
      const eq = rest.indexOf('=');
      if (eq < 0) throw new Error(`wordsTest line ${index + 1}: ENV without =`);
      env.set(rest.slice(0, eq), rest.slice(eq + 1));
      return;
    }
    const fields = raw.split('|');
    if (fields.length !== 2) throw new Error(`wordsTest line ${index + 1}: expected exactly one |`);
    const input = fields[0]!.trim();
    const expected = fields[1]!.replace(/^ +/, '').split(',');
    vectors.push({ line: index + 1, input, expected, env: new Map(env) });
  });
  return vectors;
}

const vectorEnv: ReadonlyMap<string, string> = new Map([
  ['PWD', '/home'],
  ['SHELL', 'bash'],
  ['KOREAN', '한국어'],
  ['NULL', ''],
]);

const envVarVectors = readEnvVarVectors();
const runnable = envVarVectors.filter((v) => v.platform !== 'W');
const wordsVectors = readWordsVectors();

describe('envVarTest single-word expansion', () => {
  it('holds 230 vectors, of which 228 run on Linux and 36 expect an error', () => {
    expect(envVarVectors.length).toBe(230);
    expect(runnable.length).toBe(228);
    expect(runnable.filter((v) => v.expected === 'error').length).toBe(36);
  });

  it.each(runnable.map((v) => [`line ${v.line}: ${v.input}`, v] as const))('%s', (_name, v) => {
    if (v.expected === 'error') {
      expect(() => expandWord(v.input, vectorEnv, '\\')).toThrow();
    } else {
      expect(expandWord(v.input, vectorEnv, '\\')).toBe(v.expected);
    }
  });
});

describe('wordsTest word splitting', () => {
  it('holds 24 vectors, one of which expects an error', () => {
    expect(wordsVectors.length).toBe(24);
    expect(wordsVectors.filter((v) => v.expected.length === 1 && v.expected[0] === 'error').length).toBe(1);
  });

  it.each(wordsVectors.map((v) => [`line ${v.line}: ${v.input}`, v] as const))('%s', (_name, v) => {
    if (v.expected.length === 1 && v.expected[0] === 'error') {
      expect(() => expandWords(v.input, v.env, '\\')).toThrow();
    } else {
      expect(expandWords(v.input, v.env, '\\')).toEqual(v.expected);
    }
  });
});
