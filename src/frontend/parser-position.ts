// Maps offsets in a joined logical line back to physical lines and columns, for node columns and error positions.

interface Segment {
  /** Where this physical line's text starts in the logical line. */
  readonly offset: number;
  /** 1-based physical line. */
  readonly line: number;
  /** 1-based column of the segment's first character on its physical line. */
  readonly column: number;
}

export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** The physical pieces a logical line was joined from, in order (most instructions have just one). */
export class LinePositions {
  /** Created on the first continuation line only. */
  private more: Segment[] | undefined;

  constructor(
    private readonly line: number,
    private readonly column: number,
  ) {}

  /** Records that the text of physical `line` starts at `offset` of the logical line, at column 1. */
  add(offset: number, line: number): void {
    (this.more ??= []).push({ offset, line, column: 1 });
  }

  /** The column of the character at `offset` (on whichever physical line holds it), without allocating. */
  columnAt(offset: number): number {
    const more = this.more;
    if (more === undefined) return this.column + offset;
    let k = more.length - 1;
    while (k >= 0 && (more[k] as Segment).offset > offset) k--;
    if (k < 0) return this.column + offset;
    const seg = more[k] as Segment;
    return seg.column + offset - seg.offset;
  }

  /** The physical position of the character at `offset` of the logical line. */
  at(offset: number): SourcePosition {
    const more = this.more;
    if (more === undefined) return { line: this.line, column: this.column + offset };
    // The character lives in the last segment starting at or before it (segments without text are skipped over).
    let k = more.length - 1;
    while (k >= 0 && (more[k] as Segment).offset > offset) k--;
    if (k < 0) return { line: this.line, column: this.column + offset };
    const seg = more[k] as Segment;
    return { line: seg.line, column: seg.column + offset - seg.offset };
  }
}
