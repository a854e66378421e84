// STOPSIGNAL values, checked like moby's signal.ParseSignal (Linux signal names and numbers).

const NAMES = new Set([
  'ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE', 'POLL',
  'PROF', 'PWR', 'QUIT', 'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'USR1',
  'USR2', 'VTALRM', 'WINCH', 'XCPU', 'XFSZ', 'RTMIN', 'RTMAX',
]);

/** "SIGTERM", "TERM", "15", "RTMIN+3" are valid; anything else is not. */
export function isValidSignal(value: string): boolean {
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    return n >= 1 && n <= 64;
  }
  const name = value.toUpperCase().replace(/^SIG/, '');
  if (NAMES.has(name)) return true;
  const rt = /^RTMIN\+(\d+)$|^RTMAX-(\d+)$/.exec(name);
  if (rt === null) return false;
  const offset = Number(rt[1] ?? rt[2]);
  return offset >= 1 && offset <= 15;
}
