// The ARG/ENV scope of one stage: the build environment used for expansion and RUN, and the declared ARGs.

/** A declared ARG with its resolved value (none when declared without value and nothing supplied it). */
export interface ScopedArg {
  readonly key: string;
  readonly value?: string;
}

/**
 * BuildKit keeps one ordered environment per stage: the base image Env, then every ENV and every ARG with a value,
 * in order (a later one replaces an earlier one of the same name). Expansion and RUN see it; the image config
 * only sees image Env and ENV.
 */
export class StageScope {
  private readonly buildEnv: Map<string, string>;
  /** "K=V" per variable, in buildEnv's order: env lists share the entries of the variables that did not change. */
  private readonly entries: Map<string, string>;
  private readonly declared: ScopedArg[];
  private readonly declaredKeys: Set<string>;
  /** envList() until the environment changes: consecutive RUNs share it. */
  private cachedList: readonly string[] | undefined;
  private cachedArgsPrefix: string | undefined;

  constructor(buildEnv: ReadonlyMap<string, string> = new Map(), declared: readonly ScopedArg[] = []) {
    this.buildEnv = new Map(buildEnv);
    this.entries = new Map();
    for (const [k, v] of this.buildEnv) this.entries.set(k, `${k}=${v}`);
    this.declared = [...declared];
    this.declaredKeys = new Set(declared.map((a) => a.key));
  }

  /** A copy, for a stage that starts FROM this one. */
  clone(): StageScope {
    return new StageScope(this.buildEnv, this.declared);
  }

  get env(): ReadonlyMap<string, string> {
    return this.buildEnv;
  }

  get args(): readonly ScopedArg[] {
    return this.declared;
  }

  setEnv(key: string, value: string): void {
    // Setting a variable to the value it has changes nothing (a Map keeps a key's place): the env list stays shared.
    if (this.buildEnv.get(key) === value) return;
    this.buildEnv.set(key, value);
    this.entries.set(key, `${key}=${value}`);
    this.cachedList = undefined;
    // The RUN history prefix shows declared ARGs only.
    if (this.declaredKeys.has(key)) this.cachedArgsPrefix = undefined;
  }

  declareArg(key: string, value: string | undefined): void {
    if (value !== undefined) this.setEnv(key, value);
    this.declared.push(value === undefined ? { key } : { key, value });
    this.declaredKeys.add(key);
    this.cachedArgsPrefix = undefined;
  }

  isDeclared(key: string): boolean {
    return this.declaredKeys.has(key);
  }

  /**
   * BuildKit's history prefix for RUN: "|2 A=1 B=2 " for the ARGs in scope (each name once, its current value),
   * or "" when there are none.
   */
  argsHistoryPrefix(): string {
    if (this.cachedArgsPrefix === undefined) {
      const entries = new Map<string, string>();
      for (const arg of this.declared) entries.set(arg.key, this.buildEnv.get(arg.key) ?? arg.value ?? '');
      // Joined into one flat string: every RUN's history step holds on to it.
      const parts: string[] = entries.size === 0 ? [] : [`|${entries.size} `];
      for (const [k, v] of entries) parts.push(`${k}=${v} `);
      this.cachedArgsPrefix = parts.join('');
    }
    return this.cachedArgsPrefix;
  }

  /** "K=V" entries for a process. */
  envList(): readonly string[] {
    if (this.cachedList === undefined) {
      // Sized up front: the list lives as long as the ops that use it.
      const out = new Array<string>(this.entries.size);
      let i = 0;
      for (const entry of this.entries.values()) out[i++] = entry;
      this.cachedList = out;
    }
    return this.cachedList;
  }
}

/** Parse "K=V" (a bare "K" means an empty value), like BuildKit's parseKeyValue. */
export function splitEnvEntry(entry: string): [string, string] {
  const eq = entry.indexOf('=');
  return eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
}

/** Set K in an image config Env list (owned by the caller), replacing an existing entry in place. */
export function setConfigEnv(env: string[], key: string, value: string): void {
  const prefix = `${key}=`;
  const index = env.findIndex((e) => e.startsWith(prefix) || e === key);
  if (index >= 0) env[index] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
}
