// Remembers content hashes of build-context files by their stat, so an unchanged file is never read twice.
import type { BigIntStats } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../disk/atomic-write.js';

const VERSION = 1;

/** [dev, ino, size, mtimeNs, ctimeNs, hash]; the numbers are decimal strings (they are bigints). */
type Row = readonly [string, string, string, string, string, string];

interface StatCacheFile {
  readonly version: number;
  readonly entries: Record<string, Row>;
}

function rowOf(st: BigIntStats, hash: string): Row {
  return [st.dev.toString(), st.ino.toString(), st.size.toString(), st.mtimeNs.toString(), st.ctimeNs.toString(), hash];
}

function sameStat(row: Row, st: BigIntStats): boolean {
  const now = rowOf(st, row[5]);
  return now.every((v, i) => v === row[i]);
}

export interface StatCacheOptions {
  /**
   * A file changed within this many ms of being hashed may change again without its stat changing
   * (timestamps are only as fine as the kernel's clock tick): such hashes are not remembered.
   */
  readonly racyMarginMs?: number;
}

/** Content hashes keyed by (path, dev, ino, size, mtime ns, ctime ns), persisted as one JSON file written atomically. */
export class StatCache {
  private readonly entries: Map<string, Row>;
  private dirty = false;
  private readonly racyMarginNs: bigint;

  private constructor(
    readonly file: string,
    entries: Map<string, Row>,
    opts: StatCacheOptions,
  ) {
    this.entries = entries;
    this.racyMarginNs = BigInt(Math.round((opts.racyMarginMs ?? 2000) * 1e6));
  }

  /** Loads the cache at `file`; a missing or unreadable-format file starts an empty cache (it is only a speed-up). */
  static async load(file: string, opts: StatCacheOptions = {}): Promise<StatCache> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new StatCache(file, new Map(), opts);
      throw err;
    }
    let parsed: StatCacheFile | null = null;
    try {
      parsed = JSON.parse(text) as StatCacheFile;
    } catch {
      // A torn or foreign file only costs re-hashing; it is replaced on the next save.
      parsed = null;
    }
    const entries = new Map<string, Row>();
    if (parsed !== null && parsed.version === VERSION && typeof parsed.entries === 'object') {
      for (const [p, row] of Object.entries(parsed.entries)) if (Array.isArray(row) && row.length === 6) entries.set(p, row);
    }
    return new StatCache(file, entries, opts);
  }

  /** The remembered hash of `hostPath` if its stat is exactly what it was when hashed. */
  lookup(hostPath: string, st: BigIntStats): string | undefined {
    const row = this.entries.get(hostPath);
    return row !== undefined && sameStat(row, st) ? row[5] : undefined;
  }

  store(hostPath: string, st: BigIntStats, hash: string): void {
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    if (st.ctimeNs + this.racyMarginNs > nowNs || st.mtimeNs + this.racyMarginNs > nowNs) return;
    const prev = this.entries.get(hostPath);
    const row = rowOf(st, hash);
    if (prev !== undefined && prev.every((v, i) => v === row[i])) return;
    this.entries.set(hostPath, row);
    this.dirty = true;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Writes the cache if anything changed: temp file, fsync, rename. */
  async save(): Promise<void> {
    if (!this.dirty) return;
    await mkdir(path.dirname(this.file), { recursive: true });
    const body: StatCacheFile = { version: VERSION, entries: Object.fromEntries(this.entries) };
    await writeFileAtomic(this.file, JSON.stringify(body));
    this.dirty = false;
  }
}
