// Golden-file comparison for progress output; KILN_UPDATE_GOLDEN=1 rewrites the files instead.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

const GOLDEN_DIR = join(import.meta.dirname, 'golden');

export function expectGolden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, name);
  if (process.env.KILN_UPDATE_GOLDEN === '1') {
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`missing golden file ${file}: run with KILN_UPDATE_GOLDEN=1 to create it, then review it`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}
