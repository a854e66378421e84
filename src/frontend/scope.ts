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
  private readonly declared: ScopedArg[];

  constructor(buildEnv: ReadonlyMap<string, string> = new Map(), declared: readonly ScopedArg[] = []) {
    this.buildEnv = new Map(buildEnv);
    this.declared = [...declared];
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
    this.buildEnv.set(key, value);
  }

  declareArg(key: string, value: string | undefined): void {
    if (value !== undefined) this.buildEnv.set(key, value);
    this.declared.push(value === undefined ? { key } : { key, value });
  }

  isDeclared(key: string): boolean {
    return this.declared.some((a) => a.key === key);
  }

  /** "K=V" entries for a process. */
  envList(): string[] {
    const out: string[] = [];
    for (const [k, v] of this.buildEnv) out.push(`${k}=${v}`);
    return out;
  }
}

/** Parse "K=V" (a bare "K" means an empty value), like BuildKit's parseKeyValue. */
export function splitEnvEntry(entry: string): [string, string] {
  const eq = entry.indexOf('=');
  return eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
}

/** Set K in an image config Env list, replacing an existing entry in place. */
export function setConfigEnv(env: readonly string[], key: string, value: string): string[] {
  const out = [...env];
  const index = out.findIndex((e) => splitEnvEntry(e)[0] === key);
  if (index >= 0) out[index] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}
