// kiln run's docker flags through the CLI: stdin, terminals (script and tmux), names, env, volumes, limits.
import { execFileSync, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KilnResult } from '../helpers/kiln.js';
import { importBusybox, kilnBin, makeContext, makeKilnRoot, runKiln } from '../helpers/kiln.js';
import { expectForkLimited, forkLoop } from '../helpers/pids-limit.js';

let root: string;
const cleanup: string[] = [];

beforeAll(async () => {
  root = await makeKilnRoot();
  cleanup.push(root);
  await importBusybox(root);
  const context = await makeContext({
    Dockerfile: ['FROM busybox', 'ENV FROM_IMAGE=image OVERRIDDEN=image', 'ENTRYPOINT ["echo", "ep"]', 'CMD ["cmd"]'].join('\n'),
  });
  cleanup.push(context);
  const built = await runKiln(['build', '-t', 'entry', context], { root });
  expect(built.code, built.stderr).toBe(0);
});

afterAll(async () => {
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-e2e-run-'));
  cleanup.push(dir);
  return dir;
}

/**
 * Starts a container that prints its /proc/self/cgroup and "ready", then waits until the test creates `go` in the
 * host dir bound at /ctl. `whileRunning` runs in between, with the container's output so far.
 */
async function holdContainer(flags: readonly string[], whileRunning: (stdout: string) => Promise<void>): Promise<KilnResult> {
  const ctl = await tempDir();
  let child: ChildProcess | undefined;
  let output = '';
  const ready = new Promise<void>((resolveReady) => {
    const poll = setInterval(() => {
      if (output.includes('ready\n')) {
        clearInterval(poll);
        resolveReady();
      }
    }, 20);
  });
  const running = runKiln(
    ['run', '--rm', ...flags, '-v', `${ctl}:/ctl`, 'busybox', 'sh', '-c', 'cat /proc/self/cgroup; echo ready; while [ ! -e /ctl/go ]; do sleep 0.05; done; echo released'],
    {
      root,
      onSpawn: (c) => {
        child = c;
        c.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      },
    },
  );
  const ended = running.then(() => 'ended' as const);
  if ((await Promise.race([ready.then(() => 'ready' as const), ended])) === 'ended') {
    const result = await running;
    throw new Error(`the container ended early (${result.code}): ${result.stdout}${result.stderr}`);
  }
  try {
    await whileRunning(output);
  } finally {
    await writeFile(join(ctl, 'go'), '');
  }
  const result = await running;
  expect(child).toBeDefined();
  return result;
}

/** The host directory of a v1 controller's cgroup named in a container's /proc/self/cgroup output. */
function hostCgroupDir(procSelfCgroup: string, controller: string): string {
  const line = procSelfCgroup.split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller));
  if (line === undefined) throw new Error(`no ${controller} line in ${procSelfCgroup}`);
  const cgPath = line.split(':')[2]!;
  for (const mount of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = mount.split(' - ');
    const [fstype, , superOpts] = (post ?? '').split(' ');
    if (fstype !== 'cgroup' || !(superOpts ?? '').split(',').includes(controller)) continue;
    const fields = (pre ?? '').split(' ');
    return join(fields[4]!, relative(fields[3]!, cgPath));
  }
  throw new Error(`no ${controller} cgroup mount`);
}

describe('kiln run stdin and terminals', () => {
  it('-i passes piped stdin to the command; without -i the command gets no stdin', async () => {
    const piped = await runKiln(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'read line; echo "got:$line"; cat'], { root, input: 'hello\nrest\n' });
    expect(piped.stdout).toBe('got:hello\nrest\n');
    expect(piped.code).toBe(0);
    const detached = await runKiln(['run', '--rm', 'busybox', 'sh', '-c', 'read line; echo "got:$line"'], { root, input: 'hello\n' });
    expect(detached.stdout).toBe('got:\n');
  });

  it('-it with a pipe on stdin is refused like docker does, instead of hanging on a pty that never sees EOF', async () => {
    const ran = await runKiln(['run', '--rm', '-it', 'busybox', 'cat'], { root, input: 'piped\n' });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('the input device is not a TTY');
    expect(ran.stdout).toBe('');
  });

  it('-t under script gives the command /dev/pts/0 with the size of the outer terminal', () => {
    const result = spawnSync('script', ['-qec', `stty rows 33 cols 101; ${process.execPath} ${kilnBin} run --rm -t busybox sh -c 'tty; stty size; exit 6'`, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', KILN_ROOT: root },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.stdout.replaceAll('\r', '')).toBe('/dev/pts/0\n33 101\n');
    // script -e returns the child's status.
    expect(result.status).toBe(6);
  });

  it('-it in tmux: typed input reaches the shell, and resizing the window resizes the container terminal', async () => {
    const work = await tempDir();
    const socket = join(work, 'tmux.sock');
    const tmux = (...args: string[]): string => execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8' });
    const screen = (): string => tmux('capture-pane', '-p', '-t', 'kiln');
    const waitFor = async (pattern: RegExp): Promise<string> => {
      for (let i = 0; i < 200; i++) {
        const text = screen();
        if (pattern.test(text)) return text;
        await sleep(50);
      }
      throw new Error(`tmux screen never matched ${pattern}:\n${screen()}`);
    };
    const command = `KILN_ROOT=${root} ${process.execPath} ${kilnBin} run --rm -it --hostname tty-box busybox sh; echo "kiln-exit=$?"; sleep 30`;
    tmux('new-session', '-d', '-s', 'kiln', '-x', '90', '-y', '30', command);
    try {
      await waitFor(/^\/ #\s*$/m);
      tmux('send-keys', '-t', 'kiln', 'tty; stty size; hostname; echo $((6*7))', 'Enter');
      await waitFor(/^42\s*$/m);
      expect(screen()).toMatch(/^\/dev\/pts\/0\s*\n30 90\s*\ntty-box\s*\n42\s*$/m);
      tmux('resize-window', '-t', 'kiln', '-x', '120', '-y', '40');
      await sleep(200);
      tmux('send-keys', '-t', 'kiln', 'stty size', 'Enter');
      await waitFor(/^40 120\s*$/m);
      tmux('send-keys', '-t', 'kiln', 'exit 3', 'Enter');
      await waitFor(/^kiln-exit=3\s*$/m);
    } finally {
      spawnSync('tmux', ['-S', socket, 'kill-server']);
    }
    // kiln exited by itself (kiln-exit=3 above), so it removed its snapshot.
    expect(await readdir(join(root, 'snapshots', 'active'))).toEqual([]);
  });
});

describe('kiln run options', () => {
  it('keeps no container: writes are gone on the next run and no active snapshot remains, with or without --rm', async () => {
    expect((await runKiln(['run', 'busybox', 'sh', '-c', 'echo x > /persisted'], { root })).code).toBe(0);
    const next = await runKiln(['run', '--rm', 'busybox', 'sh', '-c', 'test -e /persisted && echo kept || echo gone'], { root });
    expect(next.stdout).toBe('gone\n');
    expect(await readdir(join(root, 'snapshots', 'active'))).toEqual([]);
  });

  it('--name: a second concurrent run with the same name fails clearly; the name is free again afterwards', async () => {
    const first = await holdContainer(['--name', 'web'], async () => {
      const second = await runKiln(['run', '--rm', '--name', 'web', 'busybox', 'echo', 'second'], { root });
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/the container name "web" is already in use/);
      expect(second.stdout).toBe('');
    });
    expect(first.code, first.stderr).toBe(0);
    const third = await runKiln(['run', '--rm', '--name', 'web', 'busybox', 'echo', 'third'], { root });
    expect(third.stdout).toBe('third\n');
    const bad = await runKiln(['run', '--rm', '--name', 'no/slash', 'busybox', 'true'], { root });
    expect(bad.code).toBe(2);
  });

  it('without --name a running container gets a made-up adjective_noun name, as in docker ps, and frees it when it ends', async () => {
    const names: string[] = [];
    const first = await holdContainer([], async () => {
      await holdContainer([], async () => {
        const ps = await runKiln(['ps'], { root });
        expect(ps.code, ps.stderr).toBe(0);
        for (const row of ps.stdout.trim().split('\n').slice(1)) names.push(row.trim().split(/\s+/).at(-1)!);
      });
    });
    expect(first.code, first.stderr).toBe(0);
    expect(names).toHaveLength(2);
    for (const name of names) expect(name).toMatch(/^[a-z]+_[a-z]+\d?$/);
    expect(names[0]).not.toBe(names[1]);
    expect((await readdir(join(root, 'containers'))).filter((entry) => entry.endsWith('.pid'))).toEqual([]);
  });

  it('a name a crashed run still claims is freed by the next kiln run', async () => {
    const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    await writeFile(join(root, 'containers', 'left_behind.pid'), dead);
    expect((await runKiln(['run', '--rm', 'busybox', 'true'], { root })).code).toBe(0);
    expect((await readdir(join(root, 'containers'))).filter((entry) => entry.endsWith('.pid'))).toEqual([]);
  });

  it('-e and --env-file override the image Env in that order; a bare name takes the client value', async () => {
    const work = await tempDir();
    const envFile = join(work, 'env');
    await writeFile(envFile, '# comment\n\nFROM_FILE=file\nOVERRIDDEN=file\nCLIENT_VAR\nSPACED=a b \n');
    const ran = await runKiln(
      ['run', '--rm', '--env-file', envFile, '-e', 'OVERRIDDEN=flag', '-e', 'CLIENT_FLAG', '--entrypoint', 'sh', 'entry', '-c', 'echo "$FROM_IMAGE|$FROM_FILE|$OVERRIDDEN|$CLIENT_VAR|$CLIENT_FLAG|$SPACED|"'],
      { root, env: { CLIENT_VAR: 'from-client', CLIENT_FLAG: 'flag-client' } },
    );
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toBe('image|file|flag|from-client|flag-client|a b |\n');
  });

  it('a missing --env-file is a kiln usage error (exit 2) naming the file', async () => {
    // Node 20 itself reads a script argument named --env-file (nodejs/node#54232) unless node is started with "--".
    const missing = await runKiln(['run', '--rm', '--env-file', '/nonexistent/kiln-env', 'busybox', 'true'], { root });
    expect(missing.stderr).toBe('kiln: error: --env-file /nonexistent/kiln-env: ENOENT\n');
    expect(missing.code).toBe(2);
  });

  it('-w sets (and creates) the working directory', async () => {
    const ran = await runKiln(['run', '--rm', '-w', '/made/here', 'busybox', 'sh', '-c', 'pwd; stat -c %U /made/here'], { root });
    expect(ran.stdout).toBe('/made/here\nroot\n');
  });

  it('--entrypoint replaces the image entrypoint and drops its CMD; arguments replace the CMD', async () => {
    expect((await runKiln(['run', '--rm', 'entry'], { root })).stdout).toBe('ep cmd\n');
    expect((await runKiln(['run', '--rm', 'entry', 'a', 'b'], { root })).stdout).toBe('ep a b\n');
    expect((await runKiln(['run', '--rm', '--entrypoint', '/bin/echo', 'entry'], { root })).stdout).toBe('\n');
    expect((await runKiln(['run', '--rm', '--entrypoint', '/bin/echo', 'entry', 'x'], { root })).stdout).toBe('x\n');
  });

  it('--hostname names the container in hostname, /etc/hostname and /etc/hosts', async () => {
    const ran = await runKiln(['run', '--rm', '--hostname', 'box-1', 'busybox', 'sh', '-c', 'hostname; cat /etc/hostname; grep -c "127.0.0.1.*box-1" /etc/hosts'], { root });
    expect(ran.stdout).toBe('box-1\nbox-1\n1\n');
  });

  it('--network accepts host and none and refuses anything else', async () => {
    expect((await runKiln(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net'], { root })).stdout).toBe('lo\n');
    const bad = await runKiln(['run', '--rm', '--network', 'bridge', 'busybox', 'true'], { root });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--network "bridge"/);
  });

  it('-v HOST:CTR binds read-write, :ro read-only', async () => {
    const host = await tempDir();
    await writeFile(join(host, 'in.txt'), 'from host\n');
    const rw = await runKiln(['run', '--rm', '-v', `${host}:/data`, 'busybox', 'sh', '-c', 'cat /data/in.txt; echo from container > /data/out.txt'], { root });
    expect(rw.stdout).toBe('from host\n');
    expect(await readFile(join(host, 'out.txt'), 'utf8')).toBe('from container\n');
    const ro = await runKiln(['run', '--rm', '-v', `${host}:/data:ro`, 'busybox', 'sh', '-c', 'cat /data/in.txt; echo x > /data/denied.txt'], { root });
    expect(ro.stdout).toBe('from host\n');
    expect(ro.stderr).toMatch(/Read-only file system/);
    expect(ro.code).not.toBe(0);
    expect(existsSync(join(host, 'denied.txt'))).toBe(false);
  });

  it('-v with a missing host path creates it as a directory, as docker does', async () => {
    const host = join(await tempDir(), 'made', 'by-v');
    const ran = await runKiln(['run', '--rm', '-v', `${host}:/data`, 'busybox', 'sh', '-c', 'echo into > /data/f'], { root });
    expect(ran.code, ran.stderr).toBe(0);
    expect(await readFile(join(host, 'f'), 'utf8')).toBe('into\n');
  });

  it('-v NAME:CTR is a named volume that persists across runs', async () => {
    expect((await runKiln(['run', '--rm', '-v', 'kept:/vol', 'busybox', 'sh', '-c', 'echo first >> /vol/log'], { root })).code).toBe(0);
    const second = await runKiln(['run', '--rm', '-v', 'kept:/elsewhere', 'busybox', 'sh', '-c', 'echo second >> /elsewhere/log; cat /elsewhere/log'], { root });
    expect(second.stdout).toBe('first\nsecond\n');
    const other = await runKiln(['run', '--rm', '-v', 'other:/vol', 'busybox', 'ls', '-A', '/vol'], { root });
    expect(other.stdout).toBe('');
  });

  it('--read-only makes the root read-only while volumes stay writable', async () => {
    const ran = await runKiln(['run', '--rm', '--read-only', '-v', 'scratch:/scratch', 'busybox', 'sh', '-c', 'touch /x 2>&1; touch /tmp/x 2>&1; touch /scratch/x && echo volume-ok'], { root });
    expect(ran.stdout).toBe('touch: /x: Read-only file system\ntouch: /tmp/x: Read-only file system\nvolume-ok\n');
  });

  it('--memory, --cpus and --pids-limit are written to the cgroups the container runs in', async () => {
    const result = await holdContainer(['--memory', '64m', '--cpus', '0.5', '--pids-limit', '20'], async (cgroups) => {
      const memory = hostCgroupDir(cgroups, 'memory');
      const cpu = hostCgroupDir(cgroups, 'cpu');
      const pids = hostCgroupDir(cgroups, 'pids');
      for (const dir of [memory, cpu, pids]) expect(dir).toMatch(/\/kiln\/\d+-[0-9a-f]+$/);
      expect((await readFile(join(memory, 'memory.limit_in_bytes'), 'utf8')).trim()).toBe(String(64 * 1024 * 1024));
      expect((await readFile(join(cpu, 'cpu.cfs_quota_us'), 'utf8')).trim()).toBe('50000');
      expect((await readFile(join(cpu, 'cpu.cfs_period_us'), 'utf8')).trim()).toBe('100000');
      expect((await readFile(join(pids, 'pids.max'), 'utf8')).trim()).toBe('20');
      // The container's processes are the ones counted there.
      expect(Number((await readFile(join(pids, 'pids.current'), 'utf8')).trim())).toBeGreaterThanOrEqual(1);
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/released\n$/);
  });

  it('--pids-limit 5 makes some of 10 background sleeps fail to fork', async () => {
    const ran = await runKiln(['run', '--rm', '--pids-limit', '5', 'busybox', 'sh', '-c', forkLoop(6141)], { root });
    await expectForkLimited(ran, 6141);
  });

  it('--memory limits what the container can allocate (48 MiB of tmpfs data under 16m gets it OOM-killed)', async () => {
    // tmpfs pages are charged to the container's memory cgroup and, without swap on this VM, cannot be reclaimed.
    const script = 'head -c 50331648 /dev/zero > /dev/shm/fill; echo "status=$?"; wc -c < /dev/shm/fill';
    const limited = await runKiln(['run', '--rm', '--memory', '16m', 'busybox', 'sh', '-c', script], { root });
    expect(limited.stdout).not.toContain('50331648');
    expect(limited.code).toBe(137);
    const unlimited = await runKiln(['run', '--rm', 'busybox', 'sh', '-c', script], { root });
    expect(unlimited.stdout).toBe('status=0\n50331648\n');
  });
});
