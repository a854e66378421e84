// Dockerfile text → AST: physical lines, directives, continuations and heredoc bodies, one instruction at a time.
import type { DockerfileAst, InstructionNode, ParseWarning } from './ast.js';
import { DirectiveScanner } from './directives.js';
import { DockerfileError } from './dockerfile-error.js';
import { collectHeredocBodies, type HeredocSource, heredocMarkers } from './heredoc.js';
import type { EscapeChar } from './lexer.js';
import { InstructionSyntaxError, ParseFailure } from './parser-failure.js';
import { parseInstruction } from './parser-instruction.js';
import { LinePositions } from './parser-position.js';
import { leadingSpaceLength } from './parser-whitespace.js';

/** BuildKit reads lines with a 64 KiB scanner buffer: a line of 65536 bytes or more is rejected. */
const MAX_LINE_BYTES = 65535;
const MAX_EXCERPT = 240;
const HEREDOC_KEYWORDS = new Set(['run', 'copy', 'add']);

interface PhysicalLines extends HeredocSource {
  /** Lines with trailing CRs removed. */
  readonly lines: string[];
}

function splitPhysicalLines(text: string): PhysicalLines {
  const raw = text.split('\n');
  const count = text === '' || text.endsWith('\n') ? raw.length - 1 : raw.length;
  if (!text.includes('\r')) return { raw, count, lines: raw.length === count ? raw : raw.slice(0, count) };
  const lines: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const line = raw[i] as string;
    lines[i] = line.charCodeAt(line.length - 1) === 0x0d ? line.replace(/\r+$/, '') : line;
  }
  return { raw, count, lines };
}

function checkLineLengths(physical: PhysicalLines): void {
  for (let i = 0; i < physical.count; i++) {
    const line = physical.raw[i] as string;
    // Only a line of at least 65536/3 UTF-16 units can reach 65536 UTF-8 bytes.
    if (line.length > MAX_LINE_BYTES / 3 && Buffer.byteLength(line, 'utf8') > MAX_LINE_BYTES) {
      throw new ParseFailure(`dockerfile line greater than max allowed size of ${MAX_LINE_BYTES} bytes; split it with line continuations`, i + 1, 1);
    }
  }
}

/**
 * Where the text of a continued line ends, or -1 when the line does not continue. It continues when its last
 * character that is not a space or tab is the escape character, standing alone or after a character other
 * than the escape character.
 */
function continuationEnd(line: string, escape: EscapeChar): number {
  let end = line.length;
  while (end > 0) {
    const c = line.charCodeAt(end - 1);
    if (c !== 0x20 && c !== 0x09) break;
    end--;
  }
  if (end === 0 || line[end - 1] !== escape) return -1;
  if (end >= 2 && line[end - 2] === escape) return -1;
  return end - 1;
}

function canContainHeredoc(node: InstructionNode): boolean {
  const target = node.keyword === 'onbuild' && node.next !== undefined ? node.next : node;
  return HEREDOC_KEYWORDS.has(target.keyword) && !target.json;
}

/** One instruction's text after joining continuation lines, with where each piece came from. */
interface LogicalLine {
  readonly text: string;
  readonly positions: LinePositions;
  /** 0-based index of the first physical line after it. */
  readonly next: number;
  readonly emptyContinuation: boolean;
}

/**
 * Joins a continued line with the lines after it: comment lines are skipped, blank lines are skipped and
 * flagged, and each next line is appended as written (leading whitespace kept) minus its escape.
 */
function joinContinuation(physical: PhysicalLines, startLine: number, first: string, lead: number, escape: EscapeChar): LogicalLine {
  const { lines, count } = physical;
  const positions = new LinePositions(startLine, lead + 1);
  let cut = continuationEnd(first, escape);
  let text = cut < 0 ? first : first.slice(0, cut);
  let emptyContinuation = false;
  // The 1-based number of the first line is also the 0-based index of the line after it.
  let i = startLine;
  while (cut >= 0 && i < count) {
    const next = lines[i] as string;
    const lineNo = ++i;
    const nextLead = leadingSpaceLength(next);
    if (nextLead === next.length) {
      emptyContinuation = true;
      continue;
    }
    if (next.charCodeAt(nextLead) === 0x23 /* # */) continue;
    cut = continuationEnd(next, escape);
    positions.add(text.length, lineNo);
    text += cut < 0 ? next : next.slice(0, cut);
  }
  return { text, positions, next: i, emptyContinuation };
}

/** Parses one logical line into an instruction and reads the bodies of its heredocs; returns the next line index. */
function readInstruction(physical: PhysicalLines, line: LogicalLine, startLine: number, escape: EscapeChar): { node: InstructionNode; next: number } {
  const { text, positions } = line;
  let node: InstructionNode;
  try {
    node = parseInstruction(text, escape, { startLine, endLine: line.next, positions });
  } catch (err) {
    if (!(err instanceof InstructionSyntaxError)) throw err;
    const at = positions.at(err.offset);
    throw new ParseFailure(err.reason, at.line, at.column);
  }
  if (!canContainHeredoc(node)) return { node, next: line.next };
  const markers = heredocMarkers(text);
  if (markers.length === 0) return { node, next: line.next };
  const bodies = collectHeredocBodies(markers, physical, line.next, (marker) => positions.at(marker.offset));
  const endLine = bodies.next;
  const heredocs = bodies.heredocs;
  // ONBUILD keeps its trigger's heredocs on both nodes: BuildKit attaches them to the ONBUILD line.
  const nested = node.next === undefined ? {} : { next: { ...node.next, endLine, heredocs } };
  return { node: { ...node, endLine, heredocs, ...nested }, next: bodies.next };
}

function parseLines(physical: PhysicalLines, file: string): DockerfileAst {
  checkLineLengths(physical);
  const { lines, count } = physical;
  const directives = new DirectiveScanner();
  const children: InstructionNode[] = [];
  const warnings: ParseWarning[] = [];
  let i = 0;
  while (i < count) {
    const physicalLine = lines[i] as string;
    const startLine = ++i;
    const lead = leadingSpaceLength(physicalLine);
    const first = lead === 0 ? physicalLine : physicalLine.slice(lead);
    directives.scan(first, startLine);
    if (first === '' || first.charCodeAt(0) === 0x23 /* # */) continue;
    const escape = directives.escape;
    const line = joinContinuation(physical, startLine, first, lead, escape);
    if (leadingSpaceLength(line.text) === line.text.length) {
      // Only a lone escape before the end of the file: BuildKit makes an instruction with no keyword and rejects it.
      throw new ParseFailure(
        `line continuation with no instruction: the file ends after the escape character '${escape}'; remove it`,
        startLine,
        lead + 1,
      );
    }
    if (line.emptyContinuation) {
      warnings.push({ rule: 'NoEmptyContinuation', message: `Empty continuation line found in: ${line.text}`, line: startLine });
    }
    const read = readInstruction(physical, line, startLine, escape);
    children.push(read.node);
    i = read.next;
  }
  const first = children[0];
  const last = children[children.length - 1];
  if (first === undefined || last === undefined) {
    throw new ParseFailure('file with no instructions: a Dockerfile needs at least one instruction, such as FROM', Math.max(count, 1), 1);
  }
  return {
    file,
    lines,
    directives: directives.directives,
    escapeChar: directives.escape,
    children,
    warnings,
    startLine: first.startLine,
    endLine: last.endLine,
  };
}

/** The source line for an error message, shortened when it is too long to be worth printing whole. */
function excerpt(line: string | undefined): string | undefined {
  return line !== undefined && line.length > MAX_EXCERPT ? `${line.slice(0, MAX_EXCERPT)}…` : line;
}

/**
 * Parses Dockerfile text into its syntax tree. Throws DockerfileError (file, line, column, reason, source
 * line) for every problem the parser can find; instruction-level checks come later.
 */
export function parseDockerfile(text: string, file: string): DockerfileAst {
  const physical = splitPhysicalLines(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  try {
    return parseLines(physical, file);
  } catch (err) {
    if (!(err instanceof ParseFailure)) throw err;
    throw new DockerfileError(file, err.line, err.column, err.reason, excerpt(physical.lines[err.line - 1]));
  }
}
