// BuildKit's parser golden files (shared/conformance/buildkit/frontend/dockerfile/parser): dumps, failures, line ranges.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DockerfileError } from '../../src/frontend/dockerfile-error.js';
import { dumpAst } from '../../src/frontend/dump.js';
import { parseDockerfile } from '../../src/frontend/parser.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const parserData = path.resolve(repoRoot, '../shared/conformance/buildkit/frontend/dockerfile/parser');

function caseDirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

function readCaseFile(dir: string, name: string): string {
  const file = path.join(dir, name);
  // A case directory with a missing file is a harness failure, not a skipped case.
  if (!existsSync(file)) throw new Error(`conformance case is missing ${file}`);
  return readFileSync(file, 'utf8');
}

describe('BuildKit parser testfiles', () => {
  const dir = path.join(parserData, 'testfiles');
  const cases = caseDirs(dir);

  it('finds exactly the 33 upstream cases', () => {
    expect(cases).toHaveLength(33);
  });

  for (const name of cases) {
    it(`dumps ${name} byte for byte like BuildKit`, () => {
      const source = readCaseFile(path.join(dir, name), 'Dockerfile');
      const expected = readCaseFile(path.join(dir, name), 'result').replace(/\r\n/g, '\n');
      const ast = parseDockerfile(source, `${name}/Dockerfile`);
      expect(dumpAst(ast)).toBe(expected);
    });
  }
});

describe('BuildKit parser testfiles-negative', () => {
  const dir = path.join(parserData, 'testfiles-negative');
  const cases = caseDirs(dir);

  it('finds exactly the 4 upstream failure cases', () => {
    expect(cases).toEqual(['empty_dockerfile', 'env_no_value', 'only_comments', 'shykes-nested-json']);
  });

  for (const name of cases) {
    it(`rejects ${name} with a positioned DockerfileError`, () => {
      const source = readCaseFile(path.join(dir, name), 'Dockerfile');
      let caught: unknown;
      try {
        parseDockerfile(source, `${name}/Dockerfile`);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(DockerfileError);
      const err = caught as DockerfileError;
      expect(err.file).toBe(`${name}/Dockerfile`);
      expect(err.line).toBeGreaterThanOrEqual(1);
      expect(err.column).toBeGreaterThanOrEqual(1);
    });
  }

  it('places each failure on the line that causes it', () => {
    const lineOf = (name: string): number => {
      try {
        parseDockerfile(readCaseFile(path.join(dir, name), 'Dockerfile'), name);
      } catch (err) {
        if (err instanceof DockerfileError) return err.line;
        throw err;
      }
      throw new Error(`${name} parsed`);
    };
    expect(lineOf('empty_dockerfile')).toBe(1);
    expect(lineOf('only_comments')).toBe(3);
    expect(lineOf('env_no_value')).toBe(3);
    expect(lineOf('shykes-nested-json')).toBe(1);
  });
});

describe('BuildKit parser testfile-line', () => {
  it('gives the three instruction ranges and the whole-file range', () => {
    const source = readCaseFile(path.join(parserData, 'testfile-line'), 'Dockerfile');
    const ast = parseDockerfile(source, 'Dockerfile');
    expect(ast.children.map((c) => [c.keyword, c.startLine, c.endLine])).toEqual([
      ['from', 5, 5],
      ['env', 11, 12],
      ['run', 17, 31],
    ]);
    expect([ast.startLine, ast.endLine]).toEqual([5, 31]);
  });
});
