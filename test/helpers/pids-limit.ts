// The --pids-limit check shared by the cgroup v1 and cgroup2 suites: a loop of 10 background sleeps under a limit of 5.
import { expect } from 'vitest';
import { processesMentioning } from './kiln.js';
import type { KilnResult } from './kiln.js';

/** The shell loop; `sleepSeconds` is unique per test so that the leak check finds only its own sleeps. */
export function forkLoop(sleepSeconds: number): string {
  return `for i in 1 2 3 4 5 6 7 8 9 10; do sleep ${sleepSeconds} & echo "started $i"; done; echo all-started`;
}

/** Some sleeps started, some could not fork, the run failed, and no sleep outlived it. */
export async function expectForkLimited(ran: KilnResult, sleepSeconds: number): Promise<void> {
  const started = ran.stdout.split('\n').filter((line) => line.startsWith('started ')).length;
  expect(started).toBeGreaterThan(0);
  expect(started).toBeLessThan(10);
  expect(ran.stdout).not.toContain('all-started');
  expect(ran.stderr).toMatch(/can't fork/);
  expect(ran.code).not.toBe(0);
  expect(await processesMentioning(`sleep ${sleepSeconds}`)).toEqual([]);
}
