// Atomic writes leave no partial file behind, and a killed writer's temporary file is removed by the next start.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeStaleTemps, tempPathBeside, writeFileAtomic } from '../../src/disk/atomic-write.js';
import { runKiln, useKilnRoot } from '../helpers/kiln.js';

const tmp = mkdtempSync(join(tmpdir(), 'kiln-atomic-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A pid that named a process a moment ago and names none now. */
function deadPid(): number {
  const child = spawnSync('sh', ['-c', 'echo $$']);
  return Number(child.stdout.toString().trim());
}

describe('atomic writes', () => {
  it('replace the file whole and leave no temporary file', async () => {
    const target = join(tmp, 'record.json');
    await writeFileAtomic(target, 'one');
    await writeFileAtomic(target, 'two');
    expect(readFileSync(target, 'utf8')).toBe('two');
    expect(readdirSync(tmp).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('removeStaleTemps removes a dead writer\'s temporary files and keeps a live one\'s and everything else', async () => {
    const dir = mkdtempSync(join(tmp, 'dir-'));
    const dead = `.tmp-a.json-${deadPid()}-0123abcd`;
    const live = tempPathBeside(join(dir, 'b.json'));
    for (const name of [dead, 'a.json', '.tmp-not-ours']) writeFileSync(join(dir, name), 'x');
    writeFileSync(live, 'x');
    await removeStaleTemps(dir);
    expect(readdirSync(dir).sort()).toEqual(['.tmp-not-ours', 'a.json', live.slice(dir.length + 1)].sort());
    await removeStaleTemps(join(dir, 'missing'));
  });
});

describe('a killed kiln\'s temporary files', () => {
  const kiln = useKilnRoot();

  it('are gone after the next kiln command opens the root', async () => {
    expect((await runKiln(['images'], { root: kiln.root })).code).toBe(0);
    const stale = join(kiln.root, 'cache', `.tmp-${'0'.repeat(64)}.json-${deadPid()}-89abcdef`);
    writeFileSync(stale, '{"partial":');
    expect((await runKiln(['images'], { root: kiln.root })).code).toBe(0);
    expect(existsSync(stale)).toBe(false);
  });
});
