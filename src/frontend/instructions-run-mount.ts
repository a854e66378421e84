// RUN --mount=type=...,key=value values (CSV), validated like BuildKit; `from` names a stage, image or context.
import { InstructionProblem } from './instructions-error.js';
import { withSuggestion } from './instructions-suggest.js';

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';

/** A parsed --mount before lowering: `from` is still a name, defaults are not applied yet. */
export interface MountSpec {
  readonly type: MountType;
  readonly from?: string;
  readonly source?: string;
  readonly target?: string;
  readonly readonly: boolean;
  readonly id?: string;
  readonly sharing?: 'shared' | 'private' | 'locked';
  readonly required: boolean;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly sizeBytes?: number;
  readonly env?: string;
}

const MOUNT_TYPES: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const ALL_KEYS = [
  'type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'mode', 'uid', 'gid',
  'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'size', 'env',
];

/** One CSV record, as Go's encoding/csv reads it (quotes allowed, `""` is a quote). */
export function parseCsvRecord(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new InstructionProblem(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      if (i < text.length && text[i] !== ',') throw new InstructionProblem(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
    } else {
      while (i < text.length && text[i] !== ',') {
        if (text[i] === '"') throw new InstructionProblem(`failed to parse csv mounts: bare " in non-quoted-field`);
        field += text[i++];
      }
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++; // the comma
  }
}

function parseBool(key: string, value: string): boolean {
  switch (value.toLowerCase()) {
    case '1': case 't': case 'true':
      return true;
    case '0': case 'f': case 'false':
      return false;
    default:
      throw new InstructionProblem(`invalid value for ${key}: ${value}`);
  }
}

function parseUint(key: string, value: string, radix: 8 | 10): number {
  const ok = radix === 8 ? /^[0-7]+$/.test(value) : /^\d+$/.test(value);
  const n = ok ? parseInt(value, radix) : NaN;
  if (!ok || n > 0xffffffff) throw new InstructionProblem(`invalid value ${value} for ${key}`);
  return n;
}

/** "64m", "1g", "1024" (go-units RAMInBytes: binary multiples). */
export function parseSizeBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(value.trim());
  if (m === null) throw new InstructionProblem(`invalid size: '${value}'`);
  const power = ' kmgtp'.indexOf(m[2]!.toLowerCase() || ' ');
  return Math.floor(Number(m[1]) * 1024 ** power);
}

/**
 * Parse one --mount value. `expand` turns a raw value into its expanded form; without it (parse time),
 * only the shape is checked and `from` must not hold a variable.
 */
export function parseRunMount(value: string, expand?: (word: string) => string): MountSpec {
  let type: MountType = 'bind';
  let roAuto = true;
  let ro = false;
  let required = false;
  const m: {
    from?: string; source?: string; target?: string; id?: string; sharing?: MountSpec['sharing'];
    mode?: number; uid?: number; gid?: number; sizeBytes?: number; env?: string;
  } = {};
  for (const field of parseCsvRecord(value)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') { ro = true; roAuto = false; continue; }
      if (key === 'readwrite' || key === 'rw') { ro = false; roAuto = false; continue; }
      if (key === 'required') {
        if (type !== 'secret' && type !== 'ssh') throw new InstructionProblem(`unexpected key '${key}' for mount type '${type}'`);
        required = true;
        continue;
      }
      throw new InstructionProblem(`invalid field '${field}' must be a key=value pair`);
    }
    let v = field.slice(eq + 1);
    if (expand !== undefined) {
      v = expand(v);
    } else if (key === 'from') {
      if (/\$./.test(v)) throw new InstructionProblem(`'${key}' doesn't support variable expansion, define alias stage instead`);
    } else if (key !== 'type' || v.includes('$')) {
      // Without an expander, values are checked when lowering.
      if (!ALL_KEYS.includes(key)) throw new InstructionProblem(withSuggestion(`unexpected key '${key}' in '${field}'`, key, ALL_KEYS));
      continue;
    }
    switch (key) {
      case 'type': {
        const t = v.toLowerCase();
        if (!(MOUNT_TYPES as readonly string[]).includes(t)) {
          throw new InstructionProblem(withSuggestion(`unsupported mount type ${JSON.stringify(v)}`, v, MOUNT_TYPES));
        }
        type = t as MountType;
        break;
      }
      case 'from': m.from = v; break;
      case 'source': case 'src': m.source = v; break;
      case 'target': case 'dst': case 'destination': m.target = v; break;
      case 'readonly': case 'ro': ro = parseBool(key, v); roAuto = false; break;
      case 'readwrite': case 'rw': ro = !parseBool(key, v); roAuto = false; break;
      case 'required':
        if (type !== 'secret' && type !== 'ssh') throw new InstructionProblem(`unexpected key '${key}' for mount type '${type}'`);
        required = parseBool(key, v);
        break;
      case 'id': m.id = v; break;
      case 'sharing': {
        const s = v.toLowerCase();
        if (s !== 'shared' && s !== 'private' && s !== 'locked') throw new InstructionProblem(`unsupported sharing value ${JSON.stringify(v)}`);
        m.sharing = s;
        break;
      }
      case 'mode': m.mode = parseUint(key, v, 8); break;
      case 'uid': m.uid = parseUint(key, v, 10); break;
      case 'gid': m.gid = parseUint(key, v, 10); break;
      case 'size':
        if (type !== 'tmpfs') throw new InstructionProblem(`unexpected key '${key}' for mount type '${type}'`);
        m.sizeBytes = parseSizeBytes(v);
        break;
      case 'env':
        if (type !== 'secret') throw new InstructionProblem(`unexpected key '${key}' for mount type '${type}'`);
        m.env = v;
        break;
      default:
        throw new InstructionProblem(withSuggestion(`unexpected key '${key}' in '${field}'`, key, ALL_KEYS));
    }
  }
  return validate(type, m, roAuto ? type !== 'cache' && type !== 'tmpfs' : ro, required, expand !== undefined);
}

function validate(
  type: MountType,
  m: Omit<MountSpec, 'type' | 'readonly' | 'required'>,
  readonly: boolean,
  required: boolean,
  complete: boolean,
): MountSpec {
  const fileInfoAllowed = type === 'secret' || type === 'ssh' || type === 'cache';
  if (m.mode !== undefined && !fileInfoAllowed) throw new InstructionProblem(`mode not allowed for ${JSON.stringify(type)} type mounts`);
  if (m.uid !== undefined && !fileInfoAllowed) throw new InstructionProblem(`uid not allowed for ${JSON.stringify(type)} type mounts`);
  if (m.gid !== undefined && !fileInfoAllowed) throw new InstructionProblem(`gid not allowed for ${JSON.stringify(type)} type mounts`);
  if (m.sharing !== undefined && type !== 'cache') throw new InstructionProblem(`invalid cache sharing set for ${type} mount`);
  if (type === 'secret') {
    if (m.from !== undefined) throw new InstructionProblem('secret mount should not have a from');
    if (complete && m.source === undefined && m.target === undefined && m.id === undefined && m.env === undefined) {
      throw new InstructionProblem('invalid secret mount. one of source, target required');
    }
    if (m.source !== undefined && m.id !== undefined) throw new InstructionProblem("both source and id can't be set");
  }
  if (complete && (type === 'bind' || type === 'cache' || type === 'tmpfs') && (m.target ?? '') === '') {
    throw new InstructionProblem(`mount type ${type} requires a target`);
  }
  return { type, ...m, readonly, required };
}
