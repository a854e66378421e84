// A process's start time (field 22 of /proc/PID/stat): with its pid, it names one process even across pid reuse.
import { readFileSync } from 'node:fs';

export function processStartTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}
