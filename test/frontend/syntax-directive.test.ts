import { describe, expect, it } from 'vitest';
import { DockerfileError, parseDockerfile } from '../../src/frontend/index.js';
import { checkSyntaxDirective } from '../../src/frontend/syntax-directive.js';

function check(text: string): void {
  checkSyntaxDirective(parseDockerfile(text, 'Dockerfile'));
}

describe('the syntax directive', () => {
  it.each([
    'docker/dockerfile:1',
    'docker/dockerfile:1.7-labs',
    'docker/dockerfile',
    'docker.io/docker/dockerfile:1',
    'docker/dockerfile-upstream:master',
    'mirror.example.com:5000/docker/dockerfile:1.4@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
  ])('accepts %s: the frontend kiln implements', (value) => {
    expect(() => check(`# syntax=${value}\nFROM a\n`)).not.toThrow();
  });

  it('accepts a file without one', () => {
    expect(() => check('FROM a\n')).not.toThrow();
  });

  it.each(['example.com/my/frontend:1', 'tonistiigi/dockerfile:runmount', 'docker/dockerfilex:1'])('refuses %s at its line', (value) => {
    let error: unknown;
    try {
      check(`# escape=\\\n# syntax=${value}\nFROM a\n`);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DockerfileError);
    expect((error as DockerfileError).line).toBe(2);
    expect((error as DockerfileError).message).toContain(`custom frontend "${value}" is not supported`);
    expect((error as DockerfileError).message).toContain(`  2 | # syntax=${value}`);
  });
});
