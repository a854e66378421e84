// Heredocs: finding `<<EOF`-style markers on an instruction line and collecting their bodies from the lines after it.
import type { HeredocNode } from './ast.js';
import { ParseFailure } from './parser-failure.js';
import { isGoSpace } from './parser-whitespace.js';

/** A heredoc marker found on a logical line; `offset` is where its word starts in that line. */
export interface HeredocMarker {
  readonly name: string;
  readonly expand: boolean;
  readonly chomp: boolean;
  readonly fd?: number;
  readonly offset: number;
}

/** The physical lines a heredoc body is read from. */
export interface HeredocSource {
  /** Physical lines without their "\n", trailing "\r" kept (bodies keep line endings as written). */
  readonly raw: readonly string[];
  /** Number of physical lines (a final "\n" does not start another line). */
  readonly count: number;
}

const MARKER = /^(\d*)<<(-?)([^<]*)$/;

interface RawWord {
  readonly text: string;
  readonly offset: number;
}

/**
 * Splits a line into shell words the way BuildKit's heredoc scan does (raw quotes, raw escapes, escape
 * always `\`): quotes and escapes stay in the words. An unterminated quote makes the whole scan fail, and
 * then the line has no heredocs at all, as in BuildKit.
 */
function rawWords(line: string): RawWord[] | null {
  const words: RawWord[] = [];
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (isGoSpace(line.charCodeAt(i))) {
      if (start >= 0) words.push({ text: line.slice(start, i), offset: start });
      start = -1;
      continue;
    }
    if (start < 0) start = i;
    if (ch === '\\') {
      i++;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return null;
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (j >= line.length) return null;
      i = j;
    }
  }
  if (start >= 0) words.push({ text: line.slice(start), offset: start });
  return words;
}

/** The terminator word with quotes removed and escapes applied, and whether any part of it was quoted. */
function terminatorName(word: string): { name: string; quoted: boolean } {
  let name = '';
  let quoted = false;
  for (let i = 0; i < word.length; i++) {
    const ch = word[i] as string;
    if (ch === '\\') {
      if (i + 1 < word.length) name += word[++i] as string;
    } else if (ch === "'") {
      quoted = true;
      const end = word.indexOf("'", i + 1);
      name += word.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      quoted = true;
      let j = i + 1;
      for (; word[j] !== '"'; j++) {
        const c = word[j] as string;
        if (c === '\\' && (word[j + 1] === '"' || word[j + 1] === '$' || word[j + 1] === '\\')) {
          name += word[++j] as string;
        } else {
          name += c;
        }
      }
      i = j;
    } else {
      name += ch;
    }
  }
  return { name, quoted };
}

/** The heredoc markers on a RUN/COPY/ADD line (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`), in order. */
export function heredocMarkers(line: string): HeredocMarker[] {
  if (!line.includes('<<')) return [];
  const words = rawWords(line);
  if (words === null) return [];
  const markers: HeredocMarker[] = [];
  for (const word of words) {
    const m = MARKER.exec(word.text);
    if (m === null || m[3] === '') continue;
    const { name, quoted } = terminatorName(m[3] as string);
    // A word that is only quotes (`<<""`) gives no word at all in BuildKit's lexer: not a heredoc.
    if (name === '') continue;
    const fd = m[1] === '' ? undefined : Number.parseInt(m[1] as string, 10);
    markers.push({
      name,
      expand: !quoted,
      chomp: m[2] === '-',
      offset: word.offset,
      ...(fd === undefined ? {} : { fd }),
    });
  }
  return markers;
}

function stripLeadingTabs(s: string): string {
  let i = 0;
  while (s.charCodeAt(i) === 0x09) i++;
  return i === 0 ? s : s.slice(i);
}

function trimLineEnd(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x0d) end--;
  return end === s.length ? s : s.slice(0, end);
}

/**
 * Reads the bodies of `markers` in order from line index `from` (0-based). Each body runs to a line equal to
 * its terminator (leading tabs ignored for `<<-`). Returns the heredocs and the index of the next unread line.
 * `position` gives the line and column to blame for an unterminated heredoc.
 */
export function collectHeredocBodies(
  markers: readonly HeredocMarker[],
  source: HeredocSource,
  from: number,
  position: (marker: HeredocMarker) => { line: number; column: number },
): { heredocs: HeredocNode[]; next: number } {
  const heredocs: HeredocNode[] = [];
  let i = from;
  for (const marker of markers) {
    let content = '';
    let terminated = false;
    while (i < source.count) {
      const raw = source.raw[i] as string;
      i++;
      const line = marker.chomp ? stripLeadingTabs(trimLineEnd(raw)) : trimLineEnd(raw);
      if (line === marker.name) {
        terminated = true;
        break;
      }
      content += (marker.chomp ? stripLeadingTabs(raw) : raw) + (i < source.raw.length ? '\n' : '');
    }
    if (!terminated) {
      const at = position(marker);
      throw new ParseFailure(
        `unterminated heredoc: no line "${marker.name}" ends the heredoc before the end of the file; add a line containing only ${marker.name}`,
        at.line,
        at.column,
      );
    }
    heredocs.push({
      name: marker.name,
      content,
      expand: marker.expand,
      chomp: marker.chomp,
      ...(marker.fd === undefined ? {} : { fd: marker.fd }),
    });
  }
  return { heredocs, next: i };
}
