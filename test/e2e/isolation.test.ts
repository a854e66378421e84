// What a RUN step sees: its own pid, uts and mount namespaces, never the host's.
import { hostname } from 'node:os';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBusybox, makeContext, makeKilnRoot, runKiln } from '../helpers/kiln.js';

let root: string;
let output: string;

beforeAll(async () => {
  root = await makeKilnRoot();
  await importBusybox(root);
  const context = await makeContext({
    Dockerfile: [
      'FROM busybox',
      'RUN echo "pid=$$" && echo "cmdline=$(tr "\\0" " " < /proc/1/cmdline)" && echo "hostname=$(hostname)" && echo "mounts=$(cut -d" " -f5 /proc/self/mountinfo | sort | tr "\\n" " ")"',
    ].join('\n'),
  });
  const result = await runKiln(['build', '--progress=plain', context], { root });
  await rm(context, { recursive: true, force: true });
  expect(result.code, result.stderr).toBe(0);
  output = result.stderr;
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function field(name: string): string {
  // Log lines look like "#3 0.105 pid=1"; the step's header line also contains the text, so anchor on the prefix.
  const match = new RegExp(`^#\\d+ [\\d.]+ ${name}=(.*)$`, 'm').exec(output);
  if (!match) throw new Error(`no ${name}= line in:\n${output}`);
  return match[1]!.trim();
}

describe('RUN isolation', () => {
  it('runs the command as PID 1 of a new pid namespace', () => {
    expect(field('pid')).toBe('1');
    expect(field('cmdline')).toMatch(/^\/bin\/sh -c echo "pid=/);
  });

  it('gives the step its own hostname', () => {
    expect(field('hostname')).not.toBe(hostname());
    expect(field('hostname')).toMatch(/^kiln-/);
  });

  it('shows no host mount inside the container', () => {
    const mountPoints = field('mounts').split(' ');
    expect(mountPoints).toContain('/');
    expect(mountPoints).toContain('/proc');
    for (const point of mountPoints) {
      expect(point).toMatch(/^\/(proc|dev|sys|etc\/(hosts|hostname|resolv\.conf))?(\/.*)?$/);
      expect(point.startsWith('/work') || point.startsWith('/tmp') || point.startsWith('/var') || point.startsWith('/boot')).toBe(false);
    }
  });
});
