// What a command sees through Executor.run: its own pid/uts/mount/net namespaces, Docker's capabilities and masks.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeExecFixture, runIn } from './exec-fixture.js';
import type { ExecFixture } from './exec-fixture.js';

let fx: ExecFixture;

beforeAll(async () => {
  fx = await makeExecFixture();
});

afterAll(async () => {
  await fx.dispose();
});

describe('Executor.run isolation', () => {
  it('runs the command itself as PID 1 of a new pid namespace', async () => {
    const r = await runIn(fx, ['cat', '/proc/1/cmdline']);
    expect(r.status).toEqual({ code: 0 });
    expect(r.stdout).toBe('cat\0/proc/1/cmdline\0');
  });

  it('sees only its own processes', async () => {
    const r = await runIn(fx, ['sh', '-c', 'ls /proc | grep -E "^[0-9]+$" | wc -l']);
    // sh (PID 1), ls, grep and wc.
    expect(Number(r.stdout.trim())).toBeLessThanOrEqual(4);
  });

  it('sets the spec hostname, never the host one', async () => {
    const r = await runIn(fx, ['sh', '-c', 'hostname; cat /etc/hostname; grep -c kiln-box /etc/hosts'], { hostname: 'kiln-box' });
    expect(r.stdout).toBe('kiln-box\nkiln-box\n1\n');
    expect(hostname()).not.toBe('kiln-box');
  });

  it('shows no host mount point inside the container', async () => {
    const r = await runIn(fx, ['cut', '-d', ' ', '-f', '5', '/proc/self/mountinfo']);
    const points = r.stdout.trim().split('\n');
    expect(points).toContain('/');
    expect(points).toContain('/proc');
    expect(points).toContain('/dev/pts');
    for (const p of points) expect(p).toMatch(/^\/(proc|dev|sys|etc\/(hosts|hostname|resolv\.conf))?(\/.*)?$/);
  });

  it('gives root exactly Docker default capabilities and sets no_new_privs', async () => {
    const r = await runIn(fx, ['grep', '-E', '^(CapEff|CapBnd|NoNewPrivs)', '/proc/self/status']);
    expect(r.stdout).toMatch(/CapEff:\s+00000000a80425fb/);
    expect(r.stdout).toMatch(/CapBnd:\s+00000000a80425fb/);
    expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
  });

  it('gives a non-root user no capabilities at all', async () => {
    const r = await runIn(fx, ['grep', '^CapEff', '/proc/self/status'], { user: 'app' });
    expect(r.stdout).toMatch(/CapEff:\s+0000000000000000/);
  });

  it('masks kernel interfaces and keeps /proc/sys read-only', async () => {
    const r = await runIn(fx, ['sh', '-c', 'wc -c < /proc/keys; wc -c < /proc/timer_list; ls /sys/firmware | wc -l; echo x > /proc/sys/kernel/hostname || echo ro']);
    expect(r.stdout).toBe('0\n0\n0\nro\n');
    expect(r.stderr).toMatch(/Read-only file system/);
  });

  it('mounts /sys read-only', async () => {
    const r = await runIn(fx, ['sh', '-c', 'grep " /sys " /proc/self/mountinfo | cut -d" " -f6']);
    expect(r.stdout.trim()).toMatch(/^ro,/);
  });

  it('with network none has only a loopback interface, and it is up', async () => {
    const r = await runIn(fx, ['sh', '-c', 'ls /sys/class/net; cat /sys/class/net/lo/flags'], { network: 'none' });
    expect(r.stdout).toBe('lo\n0x9\n');
  });

  it('with host network sees the host interfaces', async () => {
    const r = await runIn(fx, ['ls', '/sys/class/net'], { network: 'host' });
    expect(r.stdout.trim().split('\n').length).toBeGreaterThan(1);
  });

  it('lets root create device nodes but not open raw devices (devices cgroup)', async () => {
    // c 1:11 is /dev/kmsg: host root may open it for writing, the container may not.
    const r = await runIn(fx, ['sh', '-c', 'mknod /kmsg c 1 11 && echo made; (: > /kmsg) || echo denied; (: > /dev/null) && echo null-ok']);
    expect(r.stdout).toBe('made\ndenied\nnull-ok\n');
  });

  it('has the standard devices in a private /dev', async () => {
    const r = await runIn(fx, ['ls', '/dev']);
    expect(r.stdout.trim().split('\n').sort()).toEqual(
      ['fd', 'full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero'].sort(),
    );
  });

  it('keeps every capability and no masks with security insecure', async () => {
    const r = await runIn(fx, ['sh', '-c', 'grep ^CapEff /proc/self/status; grep -c " /proc/keys " /proc/self/mountinfo'], { security: 'insecure' });
    // Everything the builder itself holds (a test runner may lack a few capabilities itself).
    const own = /CapEff:\s+([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    expect(r.stdout).toBe(`CapEff:\t${own}\n0\n`);
  });
});
