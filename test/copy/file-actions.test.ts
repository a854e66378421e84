import { execFileSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileAction } from '../../src/llb/types.js';
import {
  applyFileActions,
  ArchiveBreakoutError,
  CopyDestinationError,
  CopySourceNotFoundError,
  type ResolvedSource,
} from '../../src/exec/file-actions.js';

let base: string;
let ctx: string;
let dst: string;

function put(root: string, rel: string, content = rel): string {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content);
  return p;
}

function copy(src: string[], dest: string, extra: Partial<Extract<FileAction, { kind: 'copy' }>> = {}): FileAction {
  return { kind: 'copy', source: 1, src, dest, exclude: [], parents: false, link: false, unpackArchives: false, ...extra };
}

function source(exclude: string[] = [], resetOwnership = false): (ResolvedSource | undefined)[] {
  return [undefined, { root: ctx, exclude, resetOwnership }];
}

async function run(actions: FileAction[], sources = source()): Promise<void> {
  await applyFileActions(dst, sources, actions);
}

function read(rel: string): string {
  return readFileSync(path.join(dst, rel), 'utf8');
}

function has(rel: string): boolean {
  return existsSync(path.join(dst, rel)) || lstatSafe(path.join(dst, rel)) !== null;
}

function lstatSafe(p: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

async function tarball(entries: { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; data?: string; linkname?: string; mode?: number; uid?: number }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const e of entries) {
    const header = { name: e.name, type: e.type ?? 'file', mode: e.mode ?? 0o644, uid: e.uid ?? 0, gid: e.uid ?? 0, mtime: new Date(1_600_000_000_000), linkname: e.linkname };
    if ((e.type ?? 'file') === 'file') pack.entry(header, e.data ?? '');
    else pack.entry(header);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

beforeEach(() => {
  base = mkdtempSync(path.join(tmpdir(), 'kiln-copy-'));
  ctx = path.join(base, 'ctx');
  dst = path.join(base, 'rootfs');
  mkdirSync(ctx);
  mkdirSync(dst);
  put(dst, 'etc/passwd', 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n');
  put(dst, 'etc/group', 'root:x:0:\nappgrp:x:1001:\nstaff:x:50:\n');
});

afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('COPY destination rules', () => {
  it('a source directory copies its contents, not the directory itself', async () => {
    put(ctx, 'dir/a.txt');
    put(ctx, 'dir/sub/b.txt');
    await run([copy(['dir'], '/app')]);
    expect(read('app/a.txt')).toBe('dir/a.txt');
    expect(read('app/sub/b.txt')).toBe('dir/sub/b.txt');
    expect(has('app/dir')).toBe(false);
  });

  it('a file to a destination ending in "/" goes inside it, creating it', async () => {
    put(ctx, 'a.txt');
    await run([copy(['a.txt'], '/out/deep/')]);
    expect(read('out/deep/a.txt')).toBe('a.txt');
  });

  it('a file to a missing destination without "/" becomes that file', async () => {
    put(ctx, 'a.txt');
    await run([copy(['a.txt'], '/opt/renamed')]);
    expect(read('opt/renamed')).toBe('a.txt');
    expect(statSync(path.join(dst, 'opt')).mode & 0o777).toBe(0o755);
  });

  it('a file to an existing directory without "/" goes inside it', async () => {
    put(ctx, 'a.txt');
    await run([copy(['a.txt'], '/etc')]);
    expect(read('etc/a.txt')).toBe('a.txt');
  });

  it('copying the whole context with "." merges into the destination', async () => {
    put(ctx, 'x/y.txt');
    put(dst, 'app/existing.txt');
    await run([copy(['.'], '/app/')]);
    expect(read('app/x/y.txt')).toBe('x/y.txt');
    expect(read('app/existing.txt')).toBe('app/existing.txt');
  });

  it('several sources need a destination ending in "/"', async () => {
    put(ctx, 'a.txt');
    put(ctx, 'b.txt');
    await expect(run([copy(['a.txt', 'b.txt'], '/out')])).rejects.toBeInstanceOf(CopyDestinationError);
    await run([copy(['a.txt', 'b.txt'], '/out/')]);
    expect(read('out/b.txt')).toBe('b.txt');
  });

  it('a directory cannot be copied onto a file', async () => {
    put(ctx, 'dir/a.txt');
    put(dst, 'target');
    await expect(run([copy(['dir'], '/target')])).rejects.toThrow(/non-directory/);
  });
});

describe('COPY sources', () => {
  it('wildcards expand against the source root, one segment at a time', async () => {
    put(ctx, 'a.txt');
    put(ctx, 'b.txt');
    put(ctx, 'c.md');
    put(ctx, 'sub/d.txt');
    await run([copy(['*.txt'], '/w/'), copy(['*/d.txt'], '/n/')]);
    expect(read('w/a.txt')).toBe('a.txt');
    expect(read('w/b.txt')).toBe('b.txt');
    expect(has('w/c.md')).toBe(false);
    expect(has('w/d.txt')).toBe(false);
    expect(read('n/d.txt')).toBe('sub/d.txt');
  });

  it('a missing source fails naming it, and where it was looked for', async () => {
    const err = await run([copy(['missing.txt'], '/x/')], source([], true)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CopySourceNotFoundError);
    expect((err as Error).message).toBe(
      'file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist',
    );
    // From another stage or an image (COPY --from), .dockerignore has nothing to do with it.
    await expect(run([copy(['missing.txt'], '/x/')])).rejects.toThrow(
      'file not found in the --from stage or image: stat missing.txt: file does not exist',
    );
  });

  it('a wildcard that matches nothing fails naming the pattern', async () => {
    put(ctx, 'a.txt');
    await expect(run([copy(['*.go'], '/x/')])).rejects.toThrow(/"\*\.go" matches no file/);
  });

  it('a "../" source stays inside the context', async () => {
    put(base, 'outside.txt', 'host secret');
    await expect(run([copy(['../outside.txt'], '/x/')])).rejects.toBeInstanceOf(CopySourceNotFoundError);
    put(ctx, 'outside.txt', 'in context');
    await run([copy(['../outside.txt'], '/x/')]);
    expect(read('x/outside.txt')).toBe('in context');
  });

  it('a context symlink pointing out of the context is resolved inside it', async () => {
    put(base, 'hostfile', 'host secret');
    symlinkSync(path.join(base, 'hostfile'), path.join(ctx, 'abs'));
    symlinkSync('../hostfile', path.join(ctx, 'rel'));
    await expect(run([copy(['abs'], '/x/')])).rejects.toBeInstanceOf(CopySourceNotFoundError);
    await expect(run([copy(['rel'], '/x/')])).rejects.toBeInstanceOf(CopySourceNotFoundError);
    expect(has('x/abs')).toBe(false);
  });

  it('a top-level symlink source is followed and named after the link', async () => {
    put(ctx, 'real.txt', 'target content');
    symlinkSync('real.txt', path.join(ctx, 'link.txt'));
    await run([copy(['link.txt'], '/x/')]);
    expect(lstatSync(path.join(dst, 'x/link.txt')).isFile()).toBe(true);
    expect(read('x/link.txt')).toBe('target content');
  });

  it('symlinks inside a copied directory stay symlinks', async () => {
    put(ctx, 'dir/real.txt');
    symlinkSync('/etc/passwd', path.join(ctx, 'dir/abs-link'));
    await run([copy(['dir'], '/d')]);
    expect(readlinkSync(path.join(dst, 'd/abs-link'))).toBe('/etc/passwd');
  });

  it('.dockerignore excludes, with "!" re-including inside an excluded directory', async () => {
    put(ctx, 'keep.txt');
    put(ctx, 'debug.log');
    put(ctx, 'secret/other');
    put(ctx, 'secret/keep');
    await run([copy(['.'], '/app/')], source(['*.log', 'secret', '!secret/keep']));
    expect(read('app/keep.txt')).toBe('keep.txt');
    expect(has('app/debug.log')).toBe(false);
    expect(read('app/secret/keep')).toBe('secret/keep');
    expect(has('app/secret/other')).toBe(false);
    await expect(run([copy(['debug.log'], '/x/')], source(['*.log']))).rejects.toBeInstanceOf(CopySourceNotFoundError);
  });

  it('--exclude drops matching entries of the copied tree and top-level matches', async () => {
    put(ctx, 'dir/a.txt');
    put(ctx, 'dir/README.md');
    put(ctx, 'home.txt');
    put(ctx, 'homer.go');
    await run([copy(['dir'], '/d/', { exclude: ['*.md'] }), copy(['hom*'], '/h/', { exclude: ['*.txt'] })]);
    expect(has('d/a.txt')).toBe(true);
    expect(has('d/README.md')).toBe(false);
    expect(has('h/home.txt')).toBe(false);
    expect(has('h/homer.go')).toBe(true);
  });

  it('--parents keeps the source path, or the part after a "/./" pivot', async () => {
    put(ctx, 'a/b/c.txt');
    put(ctx, 'a/b/other.txt');
    await run([copy(['a/b/c.txt'], '/full/', { parents: true }), copy(['a/./b/c.txt'], '/pivot/', { parents: true })]);
    expect(read('full/a/b/c.txt')).toBe('a/b/c.txt');
    expect(has('full/a/b/other.txt')).toBe(false);
    expect(read('pivot/b/c.txt')).toBe('a/b/c.txt');
    expect(has('pivot/a')).toBe(false);
  });
});

describe('COPY metadata', () => {
  it('--chown by name resolves in the destination and owns created parents', async () => {
    put(ctx, 'a.txt');
    await run([copy(['a.txt'], '/srv/data/', { chown: { user: 'app' } })]);
    const file = statSync(path.join(dst, 'srv/data/a.txt'));
    expect([file.uid, file.gid]).toEqual([1000, 1001]);
    const parent = statSync(path.join(dst, 'srv'));
    expect([parent.uid, parent.gid]).toEqual([1000, 1001]);
  });

  it('--chown by id uses the ids as given, and a group name resolves in /etc/group', async () => {
    put(ctx, 'a.txt');
    await run([copy(['a.txt'], '/n/', { chown: { user: '4321' } }), copy(['a.txt'], '/g/', { chown: { user: '7', group: 'staff' } })]);
    const n = statSync(path.join(dst, 'n/a.txt'));
    expect([n.uid, n.gid]).toEqual([4321, 4321]);
    const g = statSync(path.join(dst, 'g/a.txt'));
    expect([g.uid, g.gid]).toEqual([7, 50]);
  });

  it('without --chown a stage keeps its owners and the context becomes root-owned', async () => {
    put(ctx, 'a.txt');
    chownSync(path.join(ctx, 'a.txt'), 1234, 5678);
    await run([copy(['a.txt'], '/keep/')], source([], false));
    await run([copy(['a.txt'], '/reset/')], source([], true));
    const keep = statSync(path.join(dst, 'keep/a.txt'));
    expect([keep.uid, keep.gid]).toEqual([1234, 5678]);
    const reset = statSync(path.join(dst, 'reset/a.txt'));
    expect([reset.uid, reset.gid]).toEqual([0, 0]);
  });

  it('--chmod accepts octal and symbolic modes', async () => {
    put(ctx, 'dir/run.sh');
    execFileSync('chmod', ['640', path.join(ctx, 'dir/run.sh')]);
    await run([copy(['dir/run.sh'], '/o/', { chmod: '755' }), copy(['dir/run.sh'], '/s/', { chmod: 'u+x,g-r,o+r' })]);
    expect(statSync(path.join(dst, 'o/run.sh')).mode & 0o7777).toBe(0o755);
    expect(statSync(path.join(dst, 's/run.sh')).mode & 0o7777).toBe(0o704 | 0o100);
  });

  it('modes and mtimes of files and directories are preserved', async () => {
    const f = put(ctx, 'dir/a.txt');
    execFileSync('chmod', ['600', f]);
    execFileSync('chmod', ['711', path.join(ctx, 'dir')]);
    utimesSync(f, 1_000_000, 1_000_000);
    utimesSync(path.join(ctx, 'dir'), 2_000_000, 2_000_000);
    await run([copy(['.'], '/c/')]);
    const st = statSync(path.join(dst, 'c/dir/a.txt'));
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.mtimeMs).toBe(1_000_000_000);
    const dirSt = statSync(path.join(dst, 'c/dir'));
    expect(dirSt.mode & 0o777).toBe(0o711);
    expect(dirSt.mtimeMs).toBe(2_000_000_000);
  });

  it('hard links inside a copied tree stay hard links', async () => {
    const a = put(ctx, 'dir/a');
    linkSync(a, path.join(ctx, 'dir/b'));
    await run([copy(['dir'], '/h')]);
    expect(statSync(path.join(dst, 'h/a')).ino).toBe(statSync(path.join(dst, 'h/b')).ino);
    expect(statSync(path.join(dst, 'h/a')).ino).not.toBe(statSync(a).ino);
  });
});

describe('destination symlinks never lead out of the root', () => {
  it('a destination through an absolute symlink to "/" stays inside the root', async () => {
    put(ctx, 'a.txt', 'payload');
    symlinkSync('/', path.join(dst, 'escape'));
    symlinkSync('../../../../..', path.join(dst, 'up'));
    symlinkSync(base, path.join(dst, 'hostdir'));
    await run([copy(['a.txt'], '/escape/tmp/')]);
    await run([copy(['a.txt'], '/up/up-dir/')]);
    await run([copy(['a.txt'], '/hostdir/planted.txt')]);
    expect(read('tmp/a.txt')).toBe('payload');
    expect(read('up-dir/a.txt')).toBe('payload');
    expect(existsSync(path.join(base, 'planted.txt'))).toBe(false);
    expect(read(path.join(base.slice(1), 'planted.txt'))).toBe('payload');
  });

  it('an existing symlink in the destination tree is not written through', async () => {
    put(ctx, 'dir/lib/x');
    symlinkSync(base, path.join(dst, 'lib'));
    await expect(run([copy(['dir'], '/')])).rejects.toThrow(/non-directory/);
    expect(existsSync(path.join(base, 'x'))).toBe(false);
  });
});

describe('ADD archives', () => {
  it('extracts a local tar.gz into the destination', async () => {
    const archive = await tarball([
      { name: 'pkg/', type: 'directory', mode: 0o755 },
      { name: 'pkg/bin/tool', data: 'tool', mode: 0o755, uid: 33 },
      { name: 'pkg/link', type: 'symlink', linkname: 'bin/tool' },
      { name: 'pkg/hard', type: 'link', linkname: 'pkg/bin/tool' },
    ]);
    writeFileSync(path.join(ctx, 'app.tar.gz'), gzipSync(archive));
    writeFileSync(path.join(ctx, 'plain.tar'), archive);
    await run([copy(['app.tar.gz'], '/opt', { unpackArchives: true }), copy(['plain.tar'], '/p/', { unpackArchives: true })]);
    expect(read('opt/pkg/bin/tool')).toBe('tool');
    expect(statSync(path.join(dst, 'opt/pkg/bin/tool')).uid).toBe(33);
    expect(statSync(path.join(dst, 'opt/pkg/bin/tool')).mode & 0o777).toBe(0o755);
    expect(readlinkSync(path.join(dst, 'opt/pkg/link'))).toBe('bin/tool');
    expect(statSync(path.join(dst, 'opt/pkg/hard')).ino).toBe(statSync(path.join(dst, 'opt/pkg/bin/tool')).ino);
    expect(read('p/pkg/bin/tool')).toBe('tool');
  });

  it('extracts xz-compressed archives with the system xz, applying --chown to every entry', async () => {
    const archive = path.join(ctx, 'a.tar');
    writeFileSync(archive, await tarball([{ name: 'd/', type: 'directory' }, { name: 'd/f', data: 'xz!', uid: 9 }]));
    execFileSync('xz', ['-z', archive]);
    await run([copy(['a.tar.xz'], '/x/', { unpackArchives: true, chown: { user: 'app' } })]);
    expect(read('x/d/f')).toBe('xz!');
    expect(statSync(path.join(dst, 'x/d/f')).uid).toBe(1000);
    expect(statSync(path.join(dst, 'x/d')).gid).toBe(1001);
  });

  it('a gzip file that is not a tar is copied as it is', async () => {
    writeFileSync(path.join(ctx, 'notes.gz'), gzipSync(Buffer.from('just text')));
    await run([copy(['notes.gz'], '/n/', { unpackArchives: true })]);
    expect(readFileSync(path.join(dst, 'n/notes.gz'))).toEqual(gzipSync(Buffer.from('just text')));
  });

  it('COPY never extracts archives', async () => {
    writeFileSync(path.join(ctx, 'a.tar'), await tarball([{ name: 'x', data: 'x' }]));
    await run([copy(['a.tar'], '/c/')]);
    expect(has('c/a.tar')).toBe(true);
    expect(has('c/x')).toBe(false);
  });

  it('refuses entries that climb out of the destination', async () => {
    writeFileSync(path.join(ctx, 'evil.tar'), await tarball([{ name: '../../evil', data: 'x' }]));
    await expect(run([copy(['evil.tar'], '/d/', { unpackArchives: true })])).rejects.toBeInstanceOf(ArchiveBreakoutError);
    expect(existsSync(path.join(base, 'evil'))).toBe(false);
  });

  it('a symlink entry to "/" cannot carry later entries out of the root', async () => {
    writeFileSync(
      path.join(ctx, 'evil.tar'),
      await tarball([
        { name: 'link', type: 'symlink', linkname: base },
        { name: 'link/planted', data: 'x' },
      ]),
    );
    await run([copy(['evil.tar'], '/d/', { unpackArchives: true })]);
    expect(existsSync(path.join(base, 'planted'))).toBe(false);
    expect(read(path.join(base.slice(1), 'planted'))).toBe('x');
  });
});

describe('mkdir and mkfile actions', () => {
  it('mkdir -p creates every missing directory with the mode and owner', async () => {
    await run([{ kind: 'mkdir', path: '/work/a/b', mode: 0o750, makeParents: true, chown: { user: 'app' } }]);
    const st = statSync(path.join(dst, 'work/a/b'));
    expect(st.mode & 0o777).toBe(0o750);
    expect([st.uid, st.gid]).toEqual([1000, 1001]);
    expect(statSync(path.join(dst, 'work')).uid).toBe(1000);
  });

  it('mkdir without parents needs the parent and accepts an existing directory', async () => {
    await expect(run([{ kind: 'mkdir', path: '/no/such', mode: 0o755, makeParents: false }])).rejects.toThrow(/does not exist/);
    await run([{ kind: 'mkdir', path: '/etc', mode: 0o700, makeParents: false }]);
    expect(statSync(path.join(dst, 'etc')).mode & 0o777).not.toBe(0o700);
  });

  it('mkfile writes content with mode and owner', async () => {
    await run([{ kind: 'mkfile', path: '/scripts/run.sh', mode: 0o755, data: '#!/bin/sh\necho hi\n', chown: { user: '5', group: '6' } }]);
    const st = statSync(path.join(dst, 'scripts/run.sh'));
    expect(read('scripts/run.sh')).toBe('#!/bin/sh\necho hi\n');
    expect(st.mode & 0o777).toBe(0o755);
    expect([st.uid, st.gid]).toEqual([5, 6]);
  });
});
