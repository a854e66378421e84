// HEALTHCHECK: Go-style durations ("1m30s") in nanoseconds, options and the test command.
import type { InstructionNode } from './ast.js';
import { InstructionProblem } from './instructions-error.js';
import { parseFlags } from './instructions-flags.js';
import type { HealthcheckInstruction } from './instructions.js';

const UNITS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration, returning nanoseconds; throws InstructionProblem with Go's messages. */
export function parseGoDuration(text: string): number {
  const quoted = JSON.stringify(text);
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new InstructionProblem(`time: invalid duration ${quoted}`);
  let total = 0;
  while (s !== '') {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    const whole = num[1] ?? '';
    const frac = num[2] ?? '';
    if (whole === '' && frac === '') throw new InstructionProblem(`time: invalid duration ${quoted}`);
    s = s.slice(num[0].length);
    const unitMatch = /^[^\d.]*/.exec(s)!;
    const unit = unitMatch[0];
    if (unit === '') throw new InstructionProblem(`time: missing unit in duration ${quoted}`);
    const scale = UNITS[unit];
    if (scale === undefined) throw new InstructionProblem(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    s = s.slice(unit.length);
    total += Number(whole === '' ? '0' : whole) * scale + (frac === '' ? 0 : Number(`0.${frac}`) * scale);
  }
  return sign * Math.round(total);
}

const MINIMUM_DURATION_NS = 1e6;

function optionalInterval(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const d = parseGoDuration(value);
  if (d === 0) return 0;
  if (d < MINIMUM_DURATION_NS) throw new InstructionProblem(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
  return d;
}

/** Build a HEALTHCHECK from its node; throws InstructionProblem (positioned by the caller). */
export function parseHealthcheck(node: InstructionNode): HealthcheckInstruction {
  if (node.args.length === 0) throw new InstructionProblem('HEALTHCHECK requires at least one argument');
  const type = node.args[0]!.toUpperCase();
  const rest = node.args.slice(1);
  if (type === 'NONE') {
    if (rest.length !== 0) throw new InstructionProblem('HEALTHCHECK NONE takes no arguments');
    parseFlags(node.flags, {});
    return { kind: 'healthcheck', node, test: ['NONE'] };
  }
  const flags = parseFlags(node.flags, {
    interval: 'string',
    timeout: 'string',
    'start-period': 'string',
    'start-interval': 'string',
    retries: 'string',
  });
  if (type !== 'CMD') throw new InstructionProblem(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  if (rest.length === 0 || (rest.length === 1 && rest[0] === '' && !node.json)) {
    throw new InstructionProblem('Missing command after HEALTHCHECK CMD');
  }
  const test = node.json ? ['CMD', ...rest] : ['CMD-SHELL', rest.join(' ')];
  let retries: number | undefined;
  const retriesText = flags.string('retries');
  if (retriesText !== undefined && retriesText !== '') {
    if (!/^[+-]?\d+$/.test(retriesText)) {
      throw new InstructionProblem(`strconv.ParseInt: parsing ${JSON.stringify(retriesText)}: invalid syntax`);
    }
    retries = Number(retriesText);
    if (retries < 0) throw new InstructionProblem(`--retries cannot be negative (${retries})`);
  }
  const result: HealthcheckInstruction = {
    kind: 'healthcheck',
    node,
    test,
    interval: optionalInterval('interval', flags.string('interval')),
    timeout: optionalInterval('timeout', flags.string('timeout')),
    startPeriod: optionalInterval('start-period', flags.string('start-period')),
    startInterval: optionalInterval('start-interval', flags.string('start-interval')),
    retries,
  };
  return result;
}
