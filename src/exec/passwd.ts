// Users and groups of an image: resolves "user[:group]" against the root's /etc/passwd and /etc/group like runc and BuildKit.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { KilnError } from '../errors.js';
import { resolveInRoot, resolveInRootSync } from '../disk/resolve-in-root.js';
import type { ChownSpec } from '../llb/types.js';

/** A user name (or group) that the image's /etc/passwd (or /etc/group) does not have. */
export class UnknownUserError extends KilnError {
  constructor(
    readonly user: string,
    readonly file: 'passwd' | 'group',
  ) {
    super(
      file === 'passwd'
        ? `unable to find user ${user}: no matching entries in passwd file`
        : `unable to find group ${user}: no matching entries in group file`,
    );
  }
}

/** A numeric id outside 0..2^31-1, or a spec with an empty part. */
export class InvalidUserSpecError extends KilnError {}

export interface ExecUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: number[];
  readonly home: string;
  readonly name?: string;
}

interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

const MAX_ID = 2 ** 31 - 1;

/** Parses a decimal id the way Go's strconv.Atoi does for these files: digits only, optional sign. */
function parseId(text: string): number | null {
  if (!/^[+-]?\d+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

function checkRange(id: number, spec: string): number {
  if (id < 0 || id > MAX_ID) throw new InvalidUserSpecError(`user spec ${JSON.stringify(spec)}: id ${id} is out of range 0..${MAX_ID}`);
  return id;
}

function absentAsNull(err: unknown): null {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return null;
  throw err;
}

/** Reads a file of the image, through the root (an /etc symlink cannot point at the host); null when it does not exist. */
async function readImageFile(root: string, containerPath: string): Promise<string | null> {
  const hostPath = await resolveInRoot(root, containerPath);
  try {
    return await readFile(hostPath, 'utf8');
  } catch (err) {
    return absentAsNull(err);
  }
}

/** readImageFile without the thread-pool round trips: the init resolves the user on every step's critical path. */
function readImageFileSync(root: string, containerPath: string): string | null {
  try {
    return readFileSync(resolveInRootSync(root, containerPath), 'utf8');
  } catch (err) {
    return absentAsNull(err);
  }
}

function dataLines(text: string): string[][] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'));
}

export function parsePasswd(text: string): PasswdEntry[] {
  return dataLines(text).map((f) => ({
    name: f[0] ?? '',
    uid: parseId(f[2] ?? '') ?? 0,
    gid: parseId(f[3] ?? '') ?? 0,
    home: f[5] ?? '',
  }));
}

export function parseGroup(text: string): GroupEntry[] {
  return dataLines(text).map((f) => ({
    name: f[0] ?? '',
    gid: parseId(f[2] ?? '') ?? 0,
    members: (f[3] ?? '').split(',').filter((m) => m !== ''),
  }));
}

function splitSpec(spec: string): { user: string; group: string } {
  const colon = spec.indexOf(':');
  return colon < 0 ? { user: spec, group: '' } : { user: spec.slice(0, colon), group: spec.slice(colon + 1) };
}

function findUser(entries: readonly PasswdEntry[], userArg: string): PasswdEntry | undefined {
  const uid = parseId(userArg);
  // A numeric user is always a uid, never a name (runc does the same).
  return entries.find((e) => (uid !== null ? e.uid === uid : e.name === userArg));
}

function findGroup(entries: readonly GroupEntry[], groupArg: string): GroupEntry | undefined {
  const gid = parseId(groupArg);
  return entries.find((e) => (gid !== null ? e.gid === gid : e.name === groupArg));
}

/**
 * Resolves a USER / `--user` spec ("", "name", "uid", "name:group", "uid:gid", ...) in the image at `root`.
 * An empty user means uid 0. A numeric uid needs no passwd entry. Supplementary groups are the groups that
 * list the matched user's name, and only when no explicit group is given.
 */
export function resolveUser(root: string, spec: string): ExecUser {
  const { user: userSpec, group: groupArg } = splitSpec(spec);
  const userArg = userSpec === '' ? '0' : userSpec;
  const passwd = parsePasswd(readImageFileSync(root, '/etc/passwd') ?? '');
  const matched = findUser(passwd, userArg);
  let uid: number;
  let gid = 0;
  let home = '/';
  if (matched !== undefined) {
    ({ uid, gid, home } = matched);
  } else {
    const numeric = parseId(userArg);
    if (numeric === null) throw new UnknownUserError(userArg, 'passwd');
    uid = checkRange(numeric, spec);
  }

  const additionalGids: number[] = [];
  if (groupArg !== '' || matched !== undefined) {
    const groups = parseGroup(readImageFileSync(root, '/etc/group') ?? '');
    if (groupArg !== '') {
      gid = resolveGroupId(groups, groupArg, spec);
    } else {
      for (const g of groups) if (g.members.includes(matched?.name ?? '')) additionalGids.push(g.gid);
    }
  }
  const result: ExecUser = { uid, gid, additionalGids, home };
  return matched !== undefined ? { ...result, name: matched.name } : result;
}

/**
 * The groups to pass to setgroups: the supplementary ones with the primary gid first, as BuildKit and containerd
 * do since CVE-2023-25173 (a process that changes its gid must not shed its primary group's restrictions).
 */
export function groupsOf(user: Pick<ExecUser, 'gid' | 'additionalGids'>): number[] {
  return user.additionalGids.includes(user.gid) ? [...user.additionalGids] : [user.gid, ...user.additionalGids];
}

function resolveGroupId(groups: readonly GroupEntry[], groupArg: string, spec: string): number {
  const found = findGroup(groups, groupArg);
  if (found !== undefined) return found.gid;
  const numeric = parseId(groupArg);
  if (numeric === null) throw new UnknownUserError(groupArg, 'group');
  return checkRange(numeric, spec);
}

/**
 * Resolves COPY/ADD --chown in the destination root. Numeric ids are used as given (no lookup);
 * names are looked up. With no group, a named user gets its primary group and a numeric one the same id.
 */
export async function resolveChown(root: string, chown: ChownSpec): Promise<{ uid: number; gid: number }> {
  const spec = chown.group === undefined ? chown.user : `${chown.user}:${chown.group}`;
  if (chown.user === '') throw new InvalidUserSpecError(`--chown=${spec}: the user part is empty`);
  const numericUid = parseId(chown.user);
  let uid: number;
  let gid: number;
  if (numericUid !== null) {
    uid = checkRange(numericUid, spec);
    gid = uid;
  } else {
    const passwd = parsePasswd((await readImageFile(root, '/etc/passwd')) ?? '');
    const entry = passwd.find((e) => e.name === chown.user);
    if (entry === undefined) throw new UnknownUserError(chown.user, 'passwd');
    uid = entry.uid;
    gid = entry.gid;
  }
  if (chown.group !== undefined && chown.group !== '') {
    const numericGid = parseId(chown.group);
    if (numericGid !== null) {
      gid = checkRange(numericGid, spec);
    } else {
      const groups = parseGroup((await readImageFile(root, '/etc/group')) ?? '');
      const entry = groups.find((g) => g.name === chown.group);
      if (entry === undefined) throw new UnknownUserError(chown.group, 'group');
      gid = entry.gid;
    }
  }
  return { uid, gid };
}
