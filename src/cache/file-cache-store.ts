// Cache records on disk, one JSON file per key, each written atomically.
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
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
    await writeFileAtomic(this.pathOf(record.key), JSON.stringify(record));
  }

  async list(): Promise<CacheRecord[]> {
    const records: CacheRecord[] = [];
    for (const name of await readdir(this.root)) {
      if (!name.endsWith('.json')) continue;
      const record = await this.get(`sha256:${name.slice(0, -5)}`);
      if (record) records.push(record);
    }
    return records;
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}
