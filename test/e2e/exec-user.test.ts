// USER resolution through the CLI: names, ids, groups, supplementary groups, HOME, WORKDIR ownership, kiln run -u.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBusybox, makeContext, makeKilnRoot, runKiln } from '../helpers/kiln.js';

let root: string;
const cleanup: string[] = [];
let buildLog: string;

// The busybox image (scripts/busybox-rootfs.sh): app is uid 1000, gid 1000, home /home/app, and a member of staff (50).
beforeAll(async () => {
  root = await makeKilnRoot();
  cleanup.push(root);
  await importBusybox(root);
  const context = await makeContext({
    Dockerfile: [
      'FROM busybox',
      'RUN echo "U0 id=$(id)" && echo "U0 home=$HOME"',
      'USER app',
      'RUN echo "U1 id=$(id)" && echo "U1 home=$HOME" && echo "U1 pwd=$(pwd)"',
      'USER 1000',
      'RUN echo "U2 id=$(id)" && echo "U2 home=$HOME"',
      'USER app:staff',
      'RUN echo "U3 id=$(id)" && echo "U3 home=$HOME"',
      'USER 1000:50',
      'RUN echo "U4 id=$(id)"',
      'USER 4321:4322',
      'RUN echo "U5 id=$(id)" && echo "U5 home=$HOME"',
      'USER app',
      'WORKDIR /srv/app/data',
      'RUN echo "U6 wd=$(stat -c %U:%G /srv /srv/app /srv/app/data | tr "\\n" " ")" && touch mine && echo "U6 mine=$(stat -c %U:%G mine)"',
      'WORKDIR /tmp/made-by-app',
      'RUN echo "U7 wd=$(stat -c "%U:%G %a" /tmp /tmp/made-by-app | tr "\\n" " ")"',
      'ENV HOME=/custom',
      'RUN echo "U8 home=$HOME"',
    ].join('\n'),
  });
  cleanup.push(context);
  const built = await runKiln(['build', '--progress=plain', '-t', 'users', context], { root });
  expect(built.code, built.stderr).toBe(0);
  buildLog = built.stderr;
});

afterAll(async () => {
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

function fact(label: string, key: string): string {
  const match = new RegExp(`^#\\d+ [\\d.]+ ${label} ${key}=(.*)$`, 'm').exec(buildLog);
  if (!match) throw new Error(`no "${label} ${key}=" line in:\n${buildLog}`);
  return match[1]!.trim();
}

// busybox id prints getgroups() (the kernel keeps it sorted); BuildKit always includes the primary gid there.
describe('USER in RUN steps', () => {
  it('defaults to root with HOME=/root', () => {
    expect(fact('U0', 'id')).toBe('uid=0(root) gid=0(root) groups=0(root)');
    expect(fact('U0', 'home')).toBe('/root');
  });

  it('USER app runs as app with its primary group, staff as a supplementary group, and HOME from passwd', () => {
    expect(fact('U1', 'id')).toBe('uid=1000(app) gid=1000(app) groups=50(staff),1000(app)');
    expect(fact('U1', 'home')).toBe('/home/app');
    expect(fact('U1', 'pwd')).toBe('/');
  });

  it('USER 1000 finds the same passwd entry as USER app', () => {
    expect(fact('U2', 'id')).toBe('uid=1000(app) gid=1000(app) groups=50(staff),1000(app)');
    expect(fact('U2', 'home')).toBe('/home/app');
  });

  it('USER app:staff and USER 1000:50 set the group and drop the supplementary groups', () => {
    expect(fact('U3', 'id')).toBe('uid=1000(app) gid=50(staff) groups=50(staff)');
    expect(fact('U3', 'home')).toBe('/home/app');
    expect(fact('U4', 'id')).toBe('uid=1000(app) gid=50(staff) groups=50(staff)');
  });

  it('a numeric user without a passwd entry runs with that id and HOME=/', () => {
    expect(fact('U5', 'id')).toBe('uid=4321 gid=4322 groups=4322');
    expect(fact('U5', 'home')).toBe('/');
  });

  it('WORKDIR after USER creates the missing directories owned by that user, like BuildKit', () => {
    expect(fact('U6', 'wd')).toBe('app:app app:app app:app');
    expect(fact('U6', 'mine')).toBe('app:app');
    // An existing parent keeps its owner and mode.
    expect(fact('U7', 'wd')).toBe('root:root 1777 app:app 755');
  });

  it('an ENV HOME wins over the passwd home', () => {
    expect(fact('U8', 'home')).toBe('/custom');
  });

  it('an unknown user fails the RUN with its Dockerfile line and a clear message', async () => {
    const context = await makeContext({ Dockerfile: 'FROM busybox\nRUN true\nUSER ghost\nRUN id\n' });
    cleanup.push(context);
    const built = await runKiln(['build', context], { root });
    expect(built.code).toBe(1);
    expect(built.stderr).toMatch(/Dockerfile:4\b.*RUN id.*unable to find user ghost: no matching entries in passwd file/);
  });

  it('an unknown group fails the same way', async () => {
    const context = await makeContext({ Dockerfile: 'FROM busybox\nUSER app:nogroup-here\nRUN id\n' });
    cleanup.push(context);
    const built = await runKiln(['build', context], { root });
    expect(built.code).toBe(1);
    expect(built.stderr).toMatch(/Dockerfile:3\b.*unable to find group nogroup-here: no matching entries in group file/);
  });
});

describe('kiln run and the image user', () => {
  it("runs as the image's USER by default, and -u overrides it", async () => {
    const byDefault = await runKiln(['run', '--rm', 'users', 'sh', '-c', 'id; echo $HOME; pwd'], { root });
    expect(byDefault.code, byDefault.stderr).toBe(0);
    // The image's ENV HOME=/custom is part of its config.
    expect(byDefault.stdout).toBe('uid=1000(app) gid=1000(app) groups=50(staff),1000(app)\n/custom\n/tmp/made-by-app\n');
    const asRoot = await runKiln(['run', '--rm', '-u', '0', 'users', 'id'], { root });
    expect(asRoot.stdout).toBe('uid=0(root) gid=0(root) groups=0(root)\n');
  });

  it.each([
    ['app', 'uid=1000(app) gid=1000(app) groups=50(staff),1000(app) /home/app'],
    ['1000', 'uid=1000(app) gid=1000(app) groups=50(staff),1000(app) /home/app'],
    ['app:staff', 'uid=1000(app) gid=50(staff) groups=50(staff) /home/app'],
    ['1000:50', 'uid=1000(app) gid=50(staff) groups=50(staff) /home/app'],
    ['nobody', 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup) /nonexistent'],
  ])('kiln run -u %s', async (user, expected) => {
    const ran = await runKiln(['run', '--rm', '-u', user, 'busybox', 'sh', '-c', 'echo "$(id) $HOME"'], { root });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout.trim()).toBe(expected);
  });

  it('kiln run -u with an unknown user exits 125 with a clear message', async () => {
    const ran = await runKiln(['run', '--rm', '-u', 'ghost', 'busybox', 'id'], { root });
    expect(ran.code).toBe(125);
    expect(ran.stderr).toContain('unable to find user ghost: no matching entries in passwd file');
    expect(ran.stdout).toBe('');
  });
});
