// Parses buildx-style --cache-to / --cache-from values ("type=local,dest=DIR,mode=max").
import { UsageError } from '../errors.js';

export type CacheFlag = '--cache-to' | '--cache-from';

/** A local cache location: `dest` is set for --cache-to, `src` for --cache-from. */
export interface CacheOption {
  readonly type: 'local';
  readonly dest?: string;
  readonly src?: string;
  /** min: only the final image's steps; max: every step the build ran or reused. Always 'min' for --cache-from. */
  readonly mode: 'min' | 'max';
}

/** Cache backends buildx knows; named so the error says "not supported yet" rather than "unknown". */
const KNOWN_TYPES = new Set(['registry', 'inline', 'gha', 's3', 'azblob']);

/** Splits on commas like Go's encoding/csv (which buildx uses): a field in double quotes may hold commas. */
function splitFields(text: string, flag: CacheFlag): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '"') {
      if (quoted && text[i + 1] === '"') {
        current += '"';
        i++;
      } else quoted = !quoted;
    } else if (char === ',' && !quoted) {
      fields.push(current);
      current = '';
    } else current += char;
  }
  if (quoted) throw new UsageError(`invalid ${flag} "${text}": unterminated quote`);
  fields.push(current);
  return fields;
}

export function parseCacheOption(text: string, flag: CacheFlag): CacheOption {
  const pairs = new Map<string, string>();
  for (const field of splitFields(text, flag)) {
    const eq = field.indexOf('=');
    if (eq <= 0) {
      // buildx reads a bare value as a registry reference ("--cache-from user/app:cache").
      throw new UsageError(`invalid ${flag} "${text}": "${field}" is not KEY=VALUE; only type=local caches are supported (e.g. ${flag} type=local,${flag === '--cache-to' ? 'dest' : 'src'}=DIR)`);
    }
    const key = field.slice(0, eq).trim().toLowerCase();
    if (pairs.has(key)) throw new UsageError(`invalid ${flag} "${text}": ${key} is given twice`);
    pairs.set(key, field.slice(eq + 1));
  }
  const type = pairs.get('type');
  if (type === undefined) throw new UsageError(`invalid ${flag} "${text}": type= is required (only type=local is supported)`);
  if (type !== 'local') {
    const what = KNOWN_TYPES.has(type) ? 'is not supported yet' : 'is unknown';
    throw new UsageError(`${flag} type=${type} ${what}: only type=local (a directory) is supported`);
  }
  const pathKey = flag === '--cache-to' ? 'dest' : 'src';
  const allowed = flag === '--cache-to' ? ['type', 'dest', 'mode'] : ['type', 'src'];
  for (const key of pairs.keys()) {
    if (!allowed.includes(key)) throw new UsageError(`invalid ${flag} "${text}": unknown key "${key}" (accepted: ${allowed.join(', ')})`);
  }
  const path = pairs.get(pathKey);
  if (path === undefined || path === '') throw new UsageError(`invalid ${flag} "${text}": ${pathKey}=DIR is required for type=local`);
  const mode = pairs.get('mode') ?? 'min';
  if (mode !== 'min' && mode !== 'max') throw new UsageError(`invalid ${flag} "${text}": mode must be min or max, not "${mode}"`);
  return flag === '--cache-to' ? { type: 'local', dest: path, mode } : { type: 'local', src: path, mode: 'min' };
}
