// Instructions that only change the image config (and add an empty-layer history step).
import type { InstructionNode } from './ast.js';
import { PROXY_ARG_NAMES } from './args.js';
import type { Linter } from './checks-linter.js';
import { goQuote } from './go-quote.js';
import { instructionError } from './instructions-error.js';
import { expandAt, expandWordsAt } from './instructions-expand.js';
import type {
  ArgInstruction,
  CommandLineInstruction,
  ExposeInstruction,
  HealthcheckInstruction,
  KeyValueInstruction,
  OnbuildInstruction,
  ShellInstruction,
  VolumeInstruction,
  WordInstruction,
  MaintainerInstruction,
} from './instructions.js';
import { DEFAULT_SHELL, type BuildContext, type MutableConfig, type StageState } from './lower-state.js';
import { setConfigEnv } from './scope.js';
import { isValidSignal } from './lower-signal.js';

const HISTORY_COMMENT = 'buildkit.dockerfile.v0';

/** The stage's own copy of a config map (stage configs are cloned at FROM, so editing in place is safe). */
function mutableRecord<K extends 'Labels' | 'ExposedPorts' | 'Volumes'>(st: StageState, key: K): Record<string, NonNullable<MutableConfig[K]>[string]> {
  const existing = st.config[key];
  if (existing !== undefined) return existing as Record<string, NonNullable<MutableConfig[K]>[string]>;
  const created: Record<string, NonNullable<MutableConfig[K]>[string]> = {};
  st.config[key] = created as MutableConfig[K];
  return created;
}

function mutableList(st: StageState, key: 'Env'): string[] {
  const existing = st.config[key];
  if (existing !== undefined) return existing as string[];
  const created: string[] = [];
  st.config[key] = created;
  return created;
}

export function commitConfigStep(st: StageState, createdBy: string): void {
  st.history.push({ createdBy, comment: HISTORY_COMMENT, emptyLayer: true });
}

/** Go's %q of a []string: ["a" "b"]. */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map(goQuote).join(' ')}]`;
}

/** The shell that prefixes shell-form commands: SHELL, else /bin/sh -c. */
export function shellOf(st: StageState): readonly string[] {
  return st.config.Shell !== undefined && st.config.Shell.length > 0 ? st.config.Shell : DEFAULT_SHELL;
}

const SECRET_KEY = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const SECRET_ALLOW = /(?:_|^)(?:public)(?:_|$)/i;

export function checkSecretKey(linter: Linter, instruction: 'ARG' | 'ENV', key: string, node: InstructionNode): void {
  if (SECRET_KEY.test(key) && !SECRET_ALLOW.test(key)) {
    linter.reportAt('SecretsUsedInArgOrEnv', `Do not use ARG or ENV instructions for sensitive data (${instruction} ${JSON.stringify(key)})`, node);
  }
}

function reportLegacy(ctx: BuildContext, node: InstructionNode): void {
  const name = node.original.toUpperCase();
  ctx.linter.reportAt('LegacyKeyValueFormat', `"${name} key=value" should be used instead of legacy "${name} key value" format`, node);
}

export function lowerEnvOrLabel(ctx: BuildContext, st: StageState, instr: KeyValueInstruction): void {
  const parts: string[] = [];
  const env = st.scope.env;
  const expanded = instr.pairs.map((p) => ({
    key: expandAt(ctx.ex, instr.node, p.key, env),
    value: expandAt(ctx.ex, instr.node, p.value, env),
    legacy: p.legacy,
  }));
  for (const pair of expanded) {
    if (pair.legacy) reportLegacy(ctx, instr.node);
    if (instr.kind === 'env') {
      checkSecretKey(ctx.linter, 'ENV', pair.key, instr.node);
      st.scope.setEnv(pair.key, pair.value);
      setConfigEnv(mutableList(st, 'Env'), pair.key, pair.value);
    } else {
      mutableRecord(st, 'Labels')[pair.key] = pair.value;
    }
    parts.push(`${pair.key}=${pair.value}`);
  }
  commitConfigStep(st, `${instr.kind.toUpperCase()} ${parts.join(' ')}`);
}

export function lowerArg(ctx: BuildContext, st: StageState, instr: ArgInstruction): void {
  const { buildArgs } = ctx.request;
  const commits: string[] = [];
  if (instr.args.length === 2 && instr.args.every((a) => a.value === undefined)) reportLegacy(ctx, instr.node);
  for (const arg of instr.args) {
    checkSecretKey(ctx.linter, 'ARG', arg.key, instr.node);
    ctx.consumedArgs.add(arg.key);
    let value: string | undefined;
    if (Object.hasOwn(buildArgs, arg.key)) value = buildArgs[arg.key];
    else if (arg.value !== undefined) value = expandAt(ctx.ex, instr.node, arg.value, st.scope.env);
    else value = ctx.global.env.get(arg.key);
    st.scope.declareArg(arg.key, value);
    commits.push(value === undefined ? arg.key : `${arg.key}=${value}`);
  }
  commitConfigStep(st, `ARG ${commits.join(' ')}`);
}

const NO_PROXIES: readonly string[] = [];
/** The proxy build args of one request, as [name, "K=V"] pairs (found once per request, asked for by every RUN). */
const proxyArgsOf = new WeakMap<object, ReadonlyArray<readonly [string, string]>>();

function proxyArgs(buildArgs: Readonly<Record<string, string>>): ReadonlyArray<readonly [string, string]> {
  let found = proxyArgsOf.get(buildArgs);
  if (found === undefined) {
    found = Object.entries(buildArgs)
      .filter(([k]) => PROXY_ARG_NAMES.has(k))
      .map(([k, v]) => [k, `${k}=${v}`] as const);
    proxyArgsOf.set(buildArgs, found);
  }
  return found;
}

/** Proxy build args that no ARG declared: they reach RUN but stay out of history (like BuildKit's proxy env). */
export function undeclaredProxyEnv(ctx: BuildContext, st: StageState): readonly string[] {
  const proxies = proxyArgs(ctx.request.buildArgs);
  if (proxies.length === 0) return NO_PROXIES;
  const out: string[] = [];
  for (const [k, entry] of proxies) if (!st.scope.isDeclared(k) && !st.scope.env.has(k)) out.push(entry);
  return out;
}

function markOnce(ctx: BuildContext, st: StageState, node: InstructionNode): void {
  const name = node.keyword.toUpperCase();
  const previous = st.seenOnce.get(name);
  if (previous !== undefined) {
    // The earlier one is the instruction that gets ignored.
    ctx.linter.reportAt(
      'MultipleInstructionsDisallowed',
      `Multiple ${name} instructions should not be used in the same stage because only the last one will be used`,
      previous,
    );
  }
  st.seenOnce.set(name, node);
}

export function lowerCommandLine(ctx: BuildContext, st: StageState, instr: CommandLineInstruction): void {
  markOnce(ctx, st, instr.node);
  let args = [...instr.command];
  if (instr.prependShell) {
    if (st.config.Shell === undefined || st.config.Shell.length === 0) {
      ctx.linter.reportAt(
        'JSONArgsRecommended',
        `JSON arguments recommended for ${instr.kind.toUpperCase()} to prevent unintended behavior related to OS signals`,
        instr.node,
      );
    }
    args = [...shellOf(st), args.join(' ')];
  }
  if (instr.kind === 'cmd') {
    st.config.Cmd = args;
    st.config.ArgsEscaped = true;
    st.cmdSet = true;
    commitConfigStep(st, `CMD ${goQuoteList(args)}`);
  } else {
    st.config.Entrypoint = args.length === 0 ? undefined : args;
    // ENTRYPOINT drops a CMD inherited from the base image, not one set earlier in this stage.
    if (!st.cmdSet) st.config.Cmd = undefined;
    commitConfigStep(st, `ENTRYPOINT ${goQuoteList(args)}`);
  }
}

/** nat.ParsePortSpecs, reduced to what EXPOSE keeps: "80/tcp" keys, ranges expanded. */
function exposedPorts(ctx: BuildContext, node: InstructionNode, spec: string): string[] {
  const fail = (reason: string): never => {
    throw instructionError(ctx.ex.source, node, reason);
  };
  // "ip:hostPort:containerPort" and "hostPort:containerPort": only the container port is exposed.
  const container = spec.slice(spec.lastIndexOf(':') + 1);
  const slash = container.indexOf('/');
  const port = slash < 0 ? container : container.slice(0, slash);
  const proto = slash < 0 ? 'tcp' : container.slice(slash + 1);
  if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) fail(`invalid proto: ${proto}`);
  if (port === '') fail(`no port specified: ${spec}<empty>`);
  const range = /^(\d+)(?:-(\d+))?$/.exec(port);
  if (range === null) fail(`invalid containerPort: ${port}`);
  const start = Number(range![1]);
  const end = range![2] === undefined ? start : Number(range![2]);
  if (start > 65535 || end > 65535) fail(`invalid containerPort: ${port}`);
  if (end < start) fail(`invalid range specified for container port: ${port}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto.toLowerCase()}`);
  return out;
}

export function lowerExpose(ctx: BuildContext, st: StageState, instr: ExposeInstruction): void {
  const ports = new Set<string>();
  for (const raw of instr.ports) {
    for (const word of expandWordsAt(ctx.ex, instr.node, raw, st.scope.env)) {
      for (const p of exposedPorts(ctx, instr.node, word)) ports.add(p);
    }
  }
  const exposed = mutableRecord(st, 'ExposedPorts');
  for (const p of ports) exposed[p] = {};
  commitConfigStep(st, `EXPOSE map[${[...ports].sort().map((p) => `${p}:{}`).join(' ')}]`);
}

export function lowerWordConfig(ctx: BuildContext, st: StageState, instr: WordInstruction): void {
  const word = expandAt(ctx.ex, instr.node, instr.word, st.scope.env);
  if (instr.kind === 'user') {
    st.config.User = word;
    commitConfigStep(st, `USER ${word}`);
  } else if (instr.kind === 'stopsignal') {
    if (!isValidSignal(word)) throw instructionError(ctx.ex.source, instr.node, `Invalid signal: ${word}`);
    st.config.StopSignal = word;
    commitConfigStep(st, `STOPSIGNAL ${word}`);
  }
}

export function lowerVolume(ctx: BuildContext, st: StageState, instr: VolumeInstruction): void {
  const volumes = instr.volumes.map((v) => expandAt(ctx.ex, instr.node, v, st.scope.env));
  if (volumes.some((v) => v === '')) throw instructionError(ctx.ex.source, instr.node, 'VOLUME specified can not be an empty string');
  const all = mutableRecord(st, 'Volumes');
  for (const v of volumes) all[v] = {};
  commitConfigStep(st, `VOLUME [${volumes.join(' ')}]`);
}

export function lowerHealthcheck(ctx: BuildContext, st: StageState, instr: HealthcheckInstruction): void {
  markOnce(ctx, st, instr.node);
  const hc: {
    Test: readonly string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number;
  } = { Test: instr.test };
  if (instr.interval !== undefined) hc.Interval = instr.interval;
  if (instr.timeout !== undefined) hc.Timeout = instr.timeout;
  if (instr.startPeriod !== undefined) hc.StartPeriod = instr.startPeriod;
  if (instr.startInterval !== undefined) hc.StartInterval = instr.startInterval;
  if (instr.retries !== undefined) hc.Retries = instr.retries;
  st.config.Healthcheck = hc;
  commitConfigStep(st, `HEALTHCHECK ${goQuoteList(instr.test)}`);
}

export function lowerShell(st: StageState, instr: ShellInstruction): void {
  st.config.Shell = [...instr.shell];
  commitConfigStep(st, `SHELL [${instr.shell.join(' ')}]`);
}

export function lowerOnbuild(st: StageState, instr: OnbuildInstruction): void {
  st.config.OnBuild = [...(st.config.OnBuild ?? []), instr.expression];
  commitConfigStep(st, `ONBUILD ${instr.expression}`);
}

export function lowerMaintainer(ctx: BuildContext, st: StageState, instr: MaintainerInstruction): void {
  ctx.linter.reportAt('MaintainerDeprecated', 'Maintainer instruction is deprecated in favor of using label', instr.node);
  st.author = instr.maintainer;
  commitConfigStep(st, `MAINTAINER ${instr.maintainer}`);
}
