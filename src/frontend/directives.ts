// Parser directives (`# syntax=`, `# escape=`, `# check=`): read only from the top of the file.
import type { DirectiveNode } from './ast.js';
import type { EscapeChar } from './lexer.js';
import { ParseFailure } from './parser-failure.js';

// Go's `\s` is [\t\n\f\r ]; `.` matches anything but "\n".
const DIRECTIVE = /^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*([^\n]+?)[\t\n\f\r ]*$/;
const KNOWN = new Set(['syntax', 'escape', 'check']);

/**
 * Scans lines from the top of the file. The first line that is not a known directive (an ordinary comment,
 * a blank line, an unknown name, an instruction) ends the scan for good.
 */
export class DirectiveScanner {
  private scanning = true;
  private readonly seen = new Set<string>();
  readonly directives: DirectiveNode[] = [];
  escape: EscapeChar = '\\';

  get done(): boolean {
    return !this.scanning;
  }

  /** Looks at one physical line (leading whitespace and trailing CR removed), 1-based `lineNo`. */
  scan(line: string, lineNo: number): void {
    if (!this.scanning) return;
    const m = line.charCodeAt(0) === 0x23 /* # */ ? DIRECTIVE.exec(line) : null;
    const name = m === null ? '' : (m[1] as string).toLowerCase();
    if (m === null || !KNOWN.has(name)) {
      this.scanning = false;
      return;
    }
    if (this.seen.has(name)) {
      throw new ParseFailure(`only one ${name} parser directive can be used; remove the repeated "# ${name}=" line`, lineNo, 1);
    }
    this.seen.add(name);
    const value = m[2] as string;
    if (name === 'escape') {
      if (value !== '`' && value !== '\\') {
        throw new ParseFailure(`invalid escape token '${value}' does not match \` or \\`, lineNo, 1);
      }
      this.escape = value;
    }
    this.directives.push({ name, value, line: lineNo });
  }
}
