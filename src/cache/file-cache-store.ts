// Cache records on disk, one JSON file per key, each written atomically; a file's mtime is when it was last used.
import { mkdir, readFile, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../disk/atomic-write.js';
import type { CacheRecord, CacheStore } from './types.js';

export class FileCacheStore implements CacheStore {
  constructor(readonly root: string) {}

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  private pathOf(key: string): string {
    return join(this.root, `${key.replace(/^sha256:/, '')}.json`);
  }

  async get(key: string): Promise<CacheRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.pathOf(key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return JSON.parse(text) as CacheRecord;
    } catch {
      // Atomic writes make this unreachable short of disk corruption; a corrupt record is a miss, and is replaced.
      return undefined;
    }
  }

  async put(record: CacheRecord): Promise<void> {
    const { lastUsedAt, ...stored } = record;
    const file = this.pathOf(record.key);
    await writeFileAtomic(file, JSON.stringify(stored));
    const used = new Date(lastUsedAt ?? record.createdAt);
    if (!Number.isNaN(used.getTime())) await utimes(file, used, used);
  }

  /** A metadata-only update: losing it to a crash only makes the record look older to prune. */
  async touch(key: string): Promise<void> {
    const now = new Date();
    try {
      await utimes(this.pathOf(key), now, now);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  async list(): Promise<CacheRecord[]> {
    const records: CacheRecord[] = [];
    for (const name of await readdir(this.root)) {
      if (!name.endsWith('.json')) continue;
      const key = `sha256:${name.slice(0, -5)}`;
      const record = await this.get(key);
      const used = await stat(this.pathOf(key)).catch(() => undefined);
      if (record) records.push(used === undefined ? record : { ...record, lastUsedAt: used.mtime.toISOString() });
    }
    return records;
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}
