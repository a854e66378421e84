// spawnPiped: posix_spawn with pipes on the child's fds, its end reported like child_process's 'close'.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { spawnPiped } from '../../src/exec/pipe-spawn.js';

function collect(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
}

const openFds = (): number => readdirSync('/proc/self/fd').length;

describe('spawnPiped', () => {
  it('runs the program in its cwd and env, with a pipe on each fd in the direction asked', async () => {
    const fdsBefore = openFds();
    const child = spawnPiped('/bin/sh', ['-c', 'read line; echo "$line $PWD $KILN_T" ; echo err >&2; echo three >&3; cat <&4 >&3; exit 7'], {
      env: { KILN_T: 'env-ok' },
      cwd: tmpdir(),
      pipes: ['in', 'out', 'out', 'out', 'in'],
    });
    const [stdin, stdout, stderr, three, four] = child.stdio as [Writable, Readable, Readable, Readable, Writable];
    const outputs = Promise.all([collect(stdout), collect(stderr), collect(three)]);
    stdin.end('hello\n');
    four.end('from four\n');
    expect(await child.closed).toEqual({ code: 7, signal: null });
    expect(await outputs).toEqual([`hello ${tmpdir()} env-ok\n`, 'err\n', 'three\nfrom four\n']);
    expect(child.exited()).toBe(true);
    // Every pipe end is closed again once the child is gone.
    await new Promise((resolve) => setImmediate(resolve));
    expect(openFds()).toBe(fdsBefore);
  });

  it('reports death by a signal by its name, and kill is a no-op once the child is reaped', async () => {
    const child = spawnPiped('/bin/sleep', ['30'], { env: {}, cwd: '/', pipes: ['in', 'out'] });
    (child.stdio[1] as Readable).resume();
    expect(child.exited()).toBe(false);
    child.kill('SIGTERM');
    expect(await child.closed).toEqual({ code: null, signal: 'SIGTERM' });
    expect(() => child.kill('SIGKILL')).not.toThrow();
  });

  it('resets the signals Node ignores, so a child killed through a closed pipe dies of SIGPIPE', async () => {
    const child = spawnPiped('/bin/sh', ['-c', 'sleep 0.2; while :; do echo x; done'], { env: {}, cwd: '/', pipes: ['in', 'out'] });
    (child.stdio[1] as Readable).destroy();
    expect(await child.closed).toEqual({ code: null, signal: 'SIGPIPE' });
  });

  it('throws when the program cannot be started, leaving no fd behind', () => {
    const fdsBefore = openFds();
    expect(() => spawnPiped('/nonexistent/program', [], { env: {}, cwd: '/', pipes: ['in', 'out'] })).toThrow(/ENOENT/);
    expect(openFds()).toBe(fdsBefore);
  });
});
