// Container isolation through the CLI, one fact per test: the same facts for a RUN step and for `kiln run`.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname as hostHostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBusybox, makeContext, makeKilnRoot, runKiln, unpackWithUmoci } from '../helpers/kiln.js';

let root: string;
const cleanup: string[] = [];
/** The plain progress log of the build whose RUN steps print the facts below. */
let buildLog: string;

// Each line is "<label> <key>=<value>"; a RUN step and `kiln run` print the same script.
const FACTS_SCRIPT = [
  'echo "pid=$$"',
  'echo "hostname=$(hostname)"',
  'echo "etc-hostname=$(cat /etc/hostname)"',
  'echo "hosts=$(tr "\\n\\t" "| " < /etc/hosts)"',
  'echo "resolv=$(tr "\\n" "|" < /etc/resolv.conf)"',
  'echo "mounts=$(cut -d" " -f5 /proc/self/mountinfo | sort | tr "\\n" " ")"',
  'echo "capeff=$(grep CapEff /proc/self/status | cut -f2)"',
  'echo "nnp=$(grep NoNewPrivs /proc/self/status | cut -f2)"',
  'echo "devcg=$(grep ":devices:" /proc/self/cgroup | cut -d: -f3)"',
  'for p in /proc/kcore /proc/keys /proc/timer_list /proc/interrupts /proc/sched_debug; do if [ -e $p ]; then echo "mask$p=$(stat -c "%F %t:%T" $p) $(head -c 64 $p | wc -c)"; else echo "mask$p=absent"; fi; done',
  'echo "acpi=$(ls -A /proc/acpi 2>&1 | wc -l)"',
  'echo "procsys=$( (echo 1 > /proc/sys/kernel/ns_last_pid) 2>&1)"',
  'echo "sysrq=$( (echo h > /proc/sysrq-trigger) 2>&1)"',
  'echo "dev=$(ls -A /dev | tr "\\n" " ")"',
  'echo "pts=$(ls -A /dev/pts | tr "\\n" " ")"',
  'echo "devlinks=$(for l in fd stdin stdout stderr ptmx; do printf "%s>%s " $l $(readlink /dev/$l); done)"',
  'echo "shm=$(touch /dev/shm/x && echo writable)"',
  'echo "netdevs=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | sort | tr "\\n" " ")"',
  'rm -f /tmp/blk /tmp/null; mknod /tmp/blk b 254 0 && echo "mknod=made" && echo "blkopen=$( (head -c 1 /tmp/blk > /dev/null && echo opened) 2>&1)"',
  'mknod /tmp/null c 1 3 && echo "charnull=$(echo x > /tmp/null && echo usable)"',
].join('; ');

beforeAll(async () => {
  root = await makeKilnRoot();
  cleanup.push(root);
  await importBusybox(root);
  const context = await makeContext({
    'Dockerfile': [
      'FROM busybox',
      // An image with its own /etc/hosts: RUN must see kiln's, and the image must keep this one.
      'COPY image-hosts /etc/hosts',
      `RUN ${FACTS_SCRIPT.replaceAll('echo "', 'echo "RUN ')} && echo marker > /etc/kiln-marker`,
      `RUN --network=none ${FACTS_SCRIPT.replaceAll('echo "', 'echo "NONE ')}`,
    ].join('\n'),
    'image-hosts': '10.9.8.7\timage-own-host\n',
  });
  cleanup.push(context);
  const built = await runKiln(['build', '--progress=plain', '-t', 'facts', context], { root });
  expect(built.code, built.stderr).toBe(0);
  buildLog = built.stderr;
});

afterAll(async () => {
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

/** A fact printed by a RUN step: the log lines look like "#3 0.105 RUN pid=1". */
function runFact(label: 'RUN' | 'NONE', key: string): string {
  const match = new RegExp(`^#\\d+ [\\d.]+ ${label} ${key.replaceAll('/', '\\/')}=(.*)$`, 'm').exec(buildLog);
  if (!match) throw new Error(`no "${label} ${key}=" line in:\n${buildLog}`);
  return match[1]!.trim();
}

let runOutput: string | undefined;
let noneOutput: string | undefined;

/** A fact printed by `kiln run` of the same script (run once per network mode, lazily). */
async function kilnRunFact(key: string, network: 'host' | 'none' = 'host'): Promise<string> {
  if (network === 'host') runOutput ??= await runFacts([]);
  else noneOutput ??= await runFacts(['--network', 'none']);
  const output = network === 'host' ? runOutput! : noneOutput!;
  const match = new RegExp(`^${key.replaceAll('/', '\\/')}=(.*)$`, 'm').exec(output);
  if (!match) throw new Error(`no "${key}=" line in:\n${output}`);
  return match[1]!.trim();
}

async function runFacts(flags: readonly string[]): Promise<string> {
  const ran = await runKiln(['run', '--rm', ...flags, 'busybox', 'sh', '-c', FACTS_SCRIPT], { root });
  expect(ran.code, ran.stderr).toBe(0);
  return ran.stdout;
}

/** Docker's default set (a80425fb) needs a writable v1 devices cgroup to keep CAP_MKNOD; without one it is a00425fb (docs/exec.md). */
function hostHasDevicesCgroup(): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => {
      const [pre, post] = line.split(' - ');
      const [fstype, , superOpts] = (post ?? '').split(' ');
      return fstype === 'cgroup' && (superOpts ?? '').split(',').includes('devices') && (pre ?? '').split(' ')[5]?.split(',').includes('rw');
    });
}

function hostNetDevs(): string {
  return readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).filter(Boolean).map((l) => l.split(':')[0]!.trim()).sort().join(' ');
}

describe('isolation of RUN and kiln run', () => {
  it('kiln run starts the command as PID 1 of its own pid namespace', async () => {
    expect(await kilnRunFact('pid')).toBe('1');
    expect(runFact('RUN', 'pid')).toBe('1');
  });

  it('gives the container its own hostname, matching /etc/hostname and listed in /etc/hosts', async () => {
    const name = await kilnRunFact('hostname');
    expect(name).not.toBe(hostHostname());
    expect(await kilnRunFact('etc-hostname')).toBe(name);
    expect(await kilnRunFact('hosts')).toContain(`127.0.0.1 localhost ${name}|`);
    expect(runFact('RUN', 'etc-hostname')).toBe(runFact('RUN', 'hostname'));
  });

  it('shows no host mount point, only the root, /proc, /dev, /sys and the three /etc files', async () => {
    for (const points of [(await kilnRunFact('mounts')).split(' '), runFact('RUN', 'mounts').split(' ')]) {
      expect(points).toContain('/');
      expect(points).toContain('/etc/hosts');
      for (const point of points) expect(point).toMatch(/^\/(proc|dev|sys|etc\/(hosts|hostname|resolv\.conf))?(\/.*)?$/);
    }
  });

  it("has Docker's default capabilities as CapEff (a80425fb with a devices cgroup, a00425fb without)", async () => {
    const devices = hostHasDevicesCgroup();
    const expected = devices ? '00000000a80425fb' : '00000000a00425fb';
    expect(runFact('RUN', 'capeff')).toBe(expected);
    expect(await kilnRunFact('capeff')).toBe(expected);
    // CAP_MKNOD is only kept because the step is really inside kiln's devices cgroup.
    if (devices) expect(runFact('RUN', 'devcg')).toMatch(/\/kiln\/[^/]+$/);
  });

  it('sets no_new_privs', async () => {
    expect(runFact('RUN', 'nnp')).toBe('1');
    expect(await kilnRunFact('nnp')).toBe('1');
  });

  it('masks /proc/kcore and the other kernel files Docker masks (they read as /dev/null)', async () => {
    for (const path of ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/interrupts', '/proc/sched_debug']) {
      // This VM's kernel may lack some of them (no /proc/kcore here); a missing file must stay missing.
      const expected = existsSync(path) ? 'character special file 1:3 0' : 'absent';
      expect(runFact('RUN', `mask${path}`), path).toBe(expected);
      expect(await kilnRunFact(`mask${path}`), path).toBe(expected);
    }
    expect(existsSync('/proc/keys')).toBe(true);
    if (existsSync('/proc/acpi')) expect(runFact('RUN', 'acpi')).toBe('0');
  });

  it('mounts /proc/sys and /proc/sysrq-trigger read-only', async () => {
    expect(runFact('RUN', 'procsys')).toMatch(/Read-only file system/);
    expect(await kilnRunFact('procsys')).toMatch(/Read-only file system/);
    // This kernel may have no sysrq-trigger; then the container must not have one either.
    expect(runFact('RUN', 'sysrq')).toMatch(existsSync('/proc/sysrq-trigger') ? /Read-only file system/ : /nonexistent directory/);
  });

  it('RUN --network=none and kiln run --network none see only lo; the default is the host network', async () => {
    expect(runFact('NONE', 'netdevs')).toBe('lo');
    expect(await kilnRunFact('netdevs', 'none')).toBe('lo');
    expect(hostNetDevs()).not.toBe('lo');
    expect(runFact('RUN', 'netdevs')).toBe(hostNetDevs());
    expect(await kilnRunFact('netdevs')).toBe(hostNetDevs());
  });

  it('gives a fresh /dev with the standard devices, devpts, shm and the fd links, and nothing of the host', async () => {
    for (const dev of [runFact('RUN', 'dev'), await kilnRunFact('dev')]) {
      expect(dev.split(' ').sort()).toEqual(['fd', 'full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero']);
    }
    expect(runFact('RUN', 'devlinks')).toBe('fd>/proc/self/fd stdin>/proc/self/fd/0 stdout>/proc/self/fd/1 stderr>/proc/self/fd/2 ptmx>pts/ptmx');
    expect(runFact('RUN', 'pts')).toBe('ptmx');
    expect(runFact('RUN', 'shm')).toBe('writable');
  });

  it('a block device made with mknod cannot be opened, while a standard character device can', async () => {
    for (const label of ['RUN', 'NONE'] as const) {
      expect(runFact(label, 'mknod')).toBe('made');
      expect(runFact(label, 'blkopen')).toMatch(/Operation not permitted/);
      expect(runFact(label, 'charnull')).toBe('usable');
    }
    expect(await kilnRunFact('blkopen')).toMatch(/Operation not permitted/);
  });

  it("provides /etc/hosts, /etc/resolv.conf and /etc/hostname, and keeps them out of the image (the image's own /etc/hosts survives)", async () => {
    expect(runFact('RUN', 'hosts')).toMatch(/^127\.0\.0\.1 localhost \S+\|::1 localhost/);
    expect(runFact('RUN', 'hosts')).not.toContain('image-own-host');
    const hostResolv = existsSync('/etc/resolv.conf') ? (await readFile('/etc/resolv.conf', 'utf8')).replaceAll('\n', '|') : '';
    expect(runFact('RUN', 'resolv')).toBe(hostResolv.trim());
    const work = await mkdtemp(join(tmpdir(), 'kiln-e2e-isolation-'));
    cleanup.push(work);
    const archive = join(work, 'facts.tar');
    const saved = await runKiln(['save', '-o', archive, 'facts'], { root });
    expect(saved.code, saved.stderr).toBe(0);
    const rootfs = unpackWithUmoci(archive, work);
    expect(await readFile(join(rootfs, 'etc', 'kiln-marker'), 'utf8')).toBe('marker\n');
    expect(await readFile(join(rootfs, 'etc', 'hosts'), 'utf8')).toBe('10.9.8.7\timage-own-host\n');
    expect(existsSync(join(rootfs, 'etc', 'resolv.conf'))).toBe(false);
    expect(existsSync(join(rootfs, 'etc', 'hostname'))).toBe(false);
    expect(existsSync(join(rootfs, 'tmp', 'blk'))).toBe(true);
  });
});

describe('RUN --security=insecure', () => {
  it('is refused without --allow security.insecure, with an error that says so', async () => {
    const context = await makeContext({ Dockerfile: 'FROM busybox\nRUN --security=insecure grep CapEff /proc/self/status\n' });
    cleanup.push(context);
    const built = await runKiln(['build', context], { root });
    expect(built.code).toBe(1);
    expect(built.stderr).toMatch(/Dockerfile:2.*--allow security\.insecure/);
  });

  it('with --allow security.insecure runs with every capability the builder has and no masks', async () => {
    const context = await makeContext({
      Dockerfile: 'FROM busybox\nRUN --security=insecure echo "capeff=$(grep CapEff /proc/self/status | cut -f2)" && echo "devcg=$(grep :devices: /proc/self/cgroup | cut -d: -f3)"\n',
    });
    cleanup.push(context);
    const built = await runKiln(['build', '--progress=plain', '--allow', 'security.insecure', context], { root });
    expect(built.code, built.stderr).toBe(0);
    const ownCapEff = /^CapEff:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1];
    expect(built.stderr).toMatch(new RegExp(`^#\\d+ [\\d.]+ capeff=${ownCapEff}$`, 'm'));
    expect(built.stderr).not.toMatch(/devcg=\S*\/kiln\//);
  });
});
