// A tiny terminal for tests: applies the escape sequences the TTY renderer writes and records what stays visible.

/** Interprets text, "\n", "\r", CSI n A (up), CSI 2K / K (erase line), CSI J (erase below) and ignores SGR. */
export class Screen {
  readonly lines: string[] = [''];
  row = 0;
  col = 0;
  /** Raw bytes received, for assertions on escape sequences. */
  raw = '';
  /** Set when a character lands past the last column: the terminal would wrap and break the redraw. */
  overflow: string | undefined;

  constructor(readonly columns: number, readonly rows: number) {}

  write = (text: string): boolean => {
    this.raw += text;
    let i = 0;
    while (i < text.length) {
      const ch = text[i] ?? '';
      if (ch === '\x1b') {
        const match = /^\x1b\[([0-9;?]*)([A-Za-z])/.exec(text.slice(i));
        if (!match) throw new Error(`unexpected escape at ${JSON.stringify(text.slice(i, i + 10))}`);
        this.control(match[1] ?? '', match[2] ?? '');
        i += match[0].length;
        continue;
      }
      if (ch === '\n') {
        this.row += 1;
        this.col = 0;
        while (this.lines.length <= this.row) this.lines.push('');
      } else if (ch === '\r') {
        this.col = 0;
      } else {
        const line = (this.lines[this.row] ?? '').padEnd(this.col, ' ');
        this.lines[this.row] = line.slice(0, this.col) + ch + line.slice(this.col + 1);
        this.col += 1;
        if (this.col > this.columns && this.overflow === undefined) this.overflow = this.lines[this.row];
      }
      i += 1;
    }
    return true;
  };

  private control(params: string, command: string): void {
    const n = params === '' ? 1 : Number(params);
    switch (command) {
      case 'A':
        this.row = Math.max(0, this.row - n);
        return;
      case 'K':
        this.lines[this.row] = params === '2' ? '' : (this.lines[this.row] ?? '').slice(0, this.col);
        return;
      case 'J':
        this.lines[this.row] = (this.lines[this.row] ?? '').slice(0, this.col);
        this.lines.length = this.row + 1;
        return;
      case 'm':
        return;
      default:
        throw new Error(`unexpected CSI ${params}${command}`);
    }
  }

  /** Everything visible, as the user would copy it off the terminal. */
  text(): string {
    return this.lines.join('\n');
  }
}
