// Bounded fuzzing of the parser: mutated conformance Dockerfiles either parse or fail with a positioned DockerfileError.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DockerfileError } from '../../src/frontend/dockerfile-error.js';
import { dumpAst } from '../../src/frontend/dump.js';
import { parseDockerfile } from '../../src/frontend/parser.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const parserData = path.resolve(repoRoot, '../shared/conformance/buildkit/frontend/dockerfile/parser');

function corpus(): string[] {
  const texts: string[] = [];
  for (const set of ['testfiles', 'testfiles-negative']) {
    const dir = path.join(parserData, set);
    for (const name of readdirSync(dir).sort()) texts.push(readFileSync(path.join(dir, name, 'Dockerfile'), 'utf8'));
  }
  texts.push(readFileSync(path.join(parserData, 'testfile-line', 'Dockerfile'), 'utf8'));
  // Heredocs, directives and flags are rare in the upstream files: seed them so mutations reach that code.
  texts.push('# syntax=x\n# escape=`\nFROM a\nRUN <<EOF `\n  3<<-"X" cat\nbody\nEOF\n\tX\nCOPY --chown="a b" <<A /x\na\nA\n');
  texts.push('FROM a\nONBUILD COPY --from=b <<EOF /y\nz\nEOF\nHEALTHCHECK --interval=1s CMD ["a", "b"]\nENV a="b c" d=e\n');
  return texts;
}

/** mulberry32: a tiny seeded PRNG, so every run mutates the same way and a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Characters that matter to the parser, so flips hit its edges more often than random bytes would.
const INTERESTING = ['\\', '`', '"', "'", '[', ']', '<', '-', '=', '#', ' ', '\t', '\n', '\r', '\0', '\u00a0', '\uFEFF', '$', ',', 'é'];

function mutate(texts: readonly string[], random: () => number): string {
  const pick = (n: number): number => Math.floor(random() * n);
  let text = texts[pick(texts.length)] as string;
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const at = pick(text.length + 1);
    switch (pick(5)) {
      case 0: {
        const code = random() < 0.5 ? pick(128) : pick(0x3000);
        text = text.slice(0, at) + String.fromCharCode(code) + text.slice(at + 1);
        break;
      }
      case 1:
        text = text.slice(0, at) + (INTERESTING[pick(INTERESTING.length)] as string) + text.slice(at);
        break;
      case 2:
        text = text.slice(0, at);
        break;
      case 3: {
        const other = texts[pick(texts.length)] as string;
        text = text.slice(0, at) + other.slice(pick(other.length + 1));
        break;
      }
      default:
        text = text.slice(0, at) + text.slice(at + 1 + pick(8));
        break;
    }
  }
  return text;
}

describe('parser fuzzing', () => {
  it('parses or rejects with a positioned DockerfileError for 3000 seeded mutations', () => {
    const texts = corpus();
    expect(texts.length).toBe(33 + 4 + 1 + 2);
    const random = prng(0x6b696c6e);
    let parsed = 0;
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const input = mutate(texts, random);
      try {
        const ast = parseDockerfile(input, 'fuzz/Dockerfile');
        expect(ast.children.length).toBeGreaterThan(0);
        expect(ast.startLine).toBeGreaterThanOrEqual(1);
        expect(ast.endLine).toBeGreaterThanOrEqual(ast.startLine);
        dumpAst(ast);
        parsed++;
      } catch (err) {
        if (!(err instanceof DockerfileError)) {
          throw new Error(`iteration ${i}: ${String(err)} for input ${JSON.stringify(input)}`);
        }
        expect(err.line, JSON.stringify(input)).toBeGreaterThanOrEqual(1);
        expect(err.column).toBeGreaterThanOrEqual(1);
        rejected++;
      }
    }
    expect(parsed + rejected).toBe(3000);
    // Both outcomes must actually occur, or the mutations are not exercising the parser.
    expect(parsed).toBeGreaterThan(300);
    expect(rejected).toBeGreaterThan(30);
  });
});
