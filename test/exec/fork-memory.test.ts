// The fork server's clones: V8 maps its heap MADV_DONTFORK, so a child cloned without prepareForClone lacks its heap
// and crashes at its first JS step; with it, clones run JS (and collect garbage) while the parent's heap churns.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FORK_SERVER_NODE_FLAGS } from '../../src/exec/fork-protocol.js';

const dist = join(import.meta.dirname, '..', '..', 'dist', 'exec');

/**
 * Clones `count` children from a Node process started like the fork server; each child builds garbage, then
 * _exits 0. Prints the raw wait statuses that were not 0, and how many clones were discarded and retried.
 */
function cloneScript(count: number, prepare: boolean): string {
  return `
    const { cloneProcess, exitNow, waitChild } = await import(${JSON.stringify(join(dist, 'syscalls.js'))});
    const { mappingsUnchanged, prepareForClone } = await import(${JSON.stringify(join(dist, 'fork-memory.js'))});
    const failed = [];
    let retried = 0;
    const keep = [];
    for (let i = 0; i < ${count}; i++) {
      // The parent's heap grows and churns between clones, so V8 maps new DONTFORK pages all along.
      for (let k = 0; k < 3000; k++) keep.push({ i, k, s: 'x'.repeat(k % 50) });
      if (keep.length > 60000) keep.splice(0, 30000);
      ${prepare ? 'prepareForClone();' : ''}
      const pid = cloneProcess(17 /* SIGCHLD */);
      if (pid === 0) {
        let junk = [];
        for (let k = 0; k < 20000; k++) junk.push({ k, t: 'y' + k });
        exitNow(junk.length === 20000 ? 0 : 3);
      }
      // As the server does: a clone made while a GC mapped a page may lack it, so it is killed, not judged.
      const discarded = ${prepare ? '!mappingsUnchanged()' : 'false'};
      if (discarded) { retried++; process.kill(pid, 'SIGKILL'); }
      let status = waitChild(pid);
      while (status === null) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1); status = waitChild(pid); }
      if (status !== 0 && !discarded) failed.push(status);
    }
    console.log(JSON.stringify({ failed, retried }));
  `;
}

function runClones(count: number, prepare: boolean): { failed: number[]; retried: number } {
  // In a directory of its own: a clone that crashes may leave a core file where it runs.
  const cwd = mkdtempSync(join(tmpdir(), 'kiln-clones-'));
  try {
    const out = execFileSync(process.execPath, [...FORK_SERVER_NODE_FLAGS, '--input-type=module', '-e', cloneScript(count, prepare)], {
      cwd,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { failed: number[]; retried: number };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

describe('cloning the fork server', () => {
  it('without preparing the heap, a clone dies of SIGSEGV at its first JS step', () => {
    const { failed } = runClones(3, false);
    expect(failed).toHaveLength(3);
    // Raw wait status: killed by signal 11 (with or without a core dump).
    for (const status of failed) expect(status & 0x7f).toBe(11);
  });

  it('with prepareForClone, 200 clones of a churning heap all run JS and exit 0', () => {
    const { failed, retried } = runClones(200, true);
    expect(failed).toEqual([]);
    expect(retried).toBeLessThan(20);
  });
});

describe('cloneFlagsOf', () => {
  it("maps unshare's namespace flags to clone(2) flags, and refuses what a clone cannot honour", async () => {
    const { cloneFlagsOf } = await import('../../src/exec/fork-client.js');
    const { CLONE } = await import('../../src/exec/syscalls.js');
    const base = ['--mount', '--pid', '--fork', '--uts', '--ipc', '--kill-child', '--propagation', 'private'];
    expect(cloneFlagsOf(base)).toBe(CLONE.NEWNS | CLONE.NEWPID | CLONE.NEWUTS | CLONE.NEWIPC);
    expect(cloneFlagsOf([...base, '--net'])).toBe(CLONE.NEWNS | CLONE.NEWPID | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET);
    // A user namespace needs its id maps written from outside: unshare does that, a clone here does not.
    expect(cloneFlagsOf([...base, '--user'])).toBeUndefined();
    expect(cloneFlagsOf([...base, '--propagation', 'shared'])).toBeUndefined();
  });
});
