// AST node → typed instruction, with BuildKit's validation and messages (positioned by the caller).
import type { InstructionNode } from './ast.js';
import { InstructionProblem } from './instructions-error.js';
import { parseFlags } from './instructions-flags.js';
import { parseHealthcheck } from './instructions-healthcheck.js';
import { parseRunMount } from './instructions-run-mount.js';
import { withSuggestion } from './instructions-suggest.js';
import {
  INSTRUCTION_KEYWORDS,
  type ArgDefinition,
  type CopyInstruction,
  type FromInstruction,
  type Instruction,
  type KeyValue,
  type RunInstruction,
  type SourceContent,
} from './instructions.js';

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function atLeastOne(cmd: string): never {
  throw new InstructionProblem(`${cmd} requires at least one argument`);
}

function exactlyOne(node: InstructionNode, cmd: string): string {
  if (node.args.length !== 1 || node.args[0] === '') throw new InstructionProblem(`${cmd} requires exactly one argument`);
  return node.args[0]!;
}

function noFlags(node: InstructionNode): void {
  parseFlags(node.flags, {});
}

function parseFrom(node: InstructionNode): FromInstruction {
  const flags = parseFlags(node.flags, { platform: 'string' });
  const args = node.args;
  if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
    const stageName = args[2]!.toLowerCase();
    if (!STAGE_NAME.test(stageName)) {
      throw new InstructionProblem(`invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`);
    }
    return { kind: 'from', node, image: args[0]!, stageName, stageNameOriginal: args[2]!, asKeyword: args[1]!, platform: flags.string('platform') };
  }
  if (args.length !== 1) throw new InstructionProblem('FROM requires either one or three arguments');
  return { kind: 'from', node, image: args[0]!, platform: flags.string('platform') };
}

/** The words as parsed: AST nodes are immutable, so the instruction shares them. */
function commandLine(node: InstructionNode): readonly string[] {
  return node.args;
}

function parseRun(node: InstructionNode): RunInstruction {
  const flags = parseFlags(node.flags, { mount: 'strings', network: 'string', security: 'string' });
  const command = commandLine(node);
  if (command.length === 0 || (!node.json && command.every((c) => c.trim() === ''))) atLeastOne('RUN');
  const network = flags.string('network');
  if (network !== undefined && network !== 'default' && network !== 'none' && network !== 'host') {
    throw new InstructionProblem(`unsupported network mode ${JSON.stringify(network)}`);
  }
  const security = flags.string('security');
  if (security !== undefined && security !== 'sandbox' && security !== 'insecure') {
    throw new InstructionProblem(`security ${JSON.stringify(security)} is not valid`);
  }
  const mounts = flags.strings('mount');
  for (const m of mounts) parseRunMount(m);
  return { kind: 'run', node, command, prependShell: !node.json, heredocs: node.heredocs, mounts, network, security };
}

function parseKeyValues(node: InstructionNode, cmd: 'ENV' | 'LABEL'): KeyValue[] {
  noFlags(node);
  const args = node.args;
  if (args.length === 0) atLeastOne(cmd);
  if (args.length % 3 !== 0) throw new InstructionProblem(`${cmd} has too many arguments`);
  // Sized up front: pairs live as long as the build.
  const pairs = new Array<KeyValue>(args.length / 3);
  for (let i = 0; i < args.length; i += 3) {
    const key = args[i]!;
    if (key === '') throw new InstructionProblem(`${cmd} names can not be blank`);
    pairs[i / 3] = { key, value: args[i + 1]!, legacy: args[i + 2] === '' };
  }
  return pairs;
}

function parseArg(node: InstructionNode): ArgDefinition[] {
  noFlags(node);
  if (node.args.length === 0) atLeastOne('ARG');
  return node.args.map((word) => {
    const eq = word.indexOf('=');
    if (eq < 0) return { key: word };
    if (eq === 0) throw new InstructionProblem('ARG names can not be blank');
    return { key: word.slice(0, eq), value: word.slice(eq + 1) };
  });
}

/** `<<EOF`, `<<-EOF`, `<<"EOF"`: a heredoc reference used as a COPY/ADD source. */
function heredocName(word: string): string | undefined {
  const m = /^<<-?\s*(["']?)([^"'\s]+)\1$/.exec(word);
  return m === null ? undefined : m[2];
}

const NO_CONTENTS: readonly SourceContent[] = Object.freeze([]);

function parseCopy(node: InstructionNode, kind: 'copy' | 'add'): CopyInstruction {
  const cmd = kind.toUpperCase();
  const flags =
    kind === 'copy'
      ? parseFlags(node.flags, { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' })
      : parseFlags(node.flags, {
          chown: 'string', chmod: 'string', link: 'bool', exclude: 'strings', 'keep-git-dir': 'bool', checksum: 'string', unpack: 'bool',
        });
  if (node.args.length < 2) {
    throw new InstructionProblem(`${cmd} requires at least two arguments, but only one was provided. Destination could not be determined.`);
  }
  let sources: readonly string[];
  let contents: readonly SourceContent[] = NO_CONTENTS;
  if (node.heredocs.length === 0) {
    sources = node.args.slice(0, -1);
  } else {
    const words: string[] = [];
    const docs: SourceContent[] = [];
    const unused = [...node.heredocs];
    for (const word of node.args.slice(0, -1)) {
      const name = heredocName(word);
      const index = name === undefined ? -1 : unused.findIndex((h) => h.name === name);
      if (index >= 0) {
        const doc = unused.splice(index, 1)[0]!;
        docs.push({ name: doc.name, data: doc.content, expand: doc.expand });
      } else {
        words.push(word);
      }
    }
    sources = words;
    contents = docs;
  }
  const from = flags.string('from');
  if (from === '') throw new InstructionProblem('COPY --from requires a value');
  return {
    kind,
    node,
    sources,
    contents,
    dest: node.args[node.args.length - 1]!,
    from,
    chown: flags.string('chown'),
    chmod: flags.string('chmod'),
    link: flags.bool('link') ?? false,
    parents: flags.bool('parents') ?? false,
    exclude: flags.strings('exclude'),
    keepGitDir: flags.bool('keep-git-dir') ?? false,
    checksum: flags.string('checksum'),
    unpack: flags.bool('unpack'),
  };
}

function parseOnbuild(node: InstructionNode): Instruction {
  noFlags(node);
  const next = node.next;
  if (next === undefined) atLeastOne('ONBUILD');
  const trigger = next.keyword.toUpperCase();
  if (trigger === 'ONBUILD') throw new InstructionProblem("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new InstructionProblem(`${trigger} isn't allowed as an ONBUILD trigger`);
  const expression = node.text.replace(/^\s*ONBUILD\s*/i, '');
  return { kind: 'onbuild', node, expression };
}

/** Turn one AST node into a typed instruction. Throws InstructionProblem for the caller to position. */
export function parseInstruction(node: InstructionNode): Instruction {
  switch (node.keyword) {
    case 'from':
      return parseFrom(node);
    case 'run':
      return parseRun(node);
    case 'cmd':
    case 'entrypoint':
      noFlags(node);
      return { kind: node.keyword, node, command: commandLine(node), prependShell: !node.json };
    case 'env':
    case 'label':
      return { kind: node.keyword, node, pairs: parseKeyValues(node, node.keyword === 'env' ? 'ENV' : 'LABEL') };
    case 'maintainer':
      noFlags(node);
      return { kind: 'maintainer', node, maintainer: exactlyOne(node, 'MAINTAINER') };
    case 'expose':
      noFlags(node);
      if (node.args.length === 0) atLeastOne('EXPOSE');
      return { kind: 'expose', node, ports: node.args };
    case 'copy':
    case 'add':
      return parseCopy(node, node.keyword);
    case 'volume': {
      noFlags(node);
      if (node.args.length === 0) atLeastOne('VOLUME');
      const volumes = node.args.map((v) => v.trim());
      if (volumes.some((v) => v === '')) throw new InstructionProblem('VOLUME specified can not be an empty string');
      return { kind: 'volume', node, volumes };
    }
    case 'user':
    case 'workdir':
    case 'stopsignal':
      noFlags(node);
      return { kind: node.keyword, node, word: exactlyOne(node, node.keyword.toUpperCase()) };
    case 'arg':
      return { kind: 'arg', node, args: parseArg(node) };
    case 'onbuild':
      return parseOnbuild(node);
    case 'healthcheck':
      return parseHealthcheck(node);
    case 'shell':
      noFlags(node);
      if (node.args.length === 0) atLeastOne('SHELL');
      if (!node.json) throw new InstructionProblem('SHELL requires the arguments to be in JSON form');
      return { kind: 'shell', node, shell: [...node.args] };
    default:
      throw new InstructionProblem(
        withSuggestion(`unknown instruction: ${node.original}`, node.original.toUpperCase(), INSTRUCTION_KEYWORDS.map((k) => k.toUpperCase())),
      );
  }
}
