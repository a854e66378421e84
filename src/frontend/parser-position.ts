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

/** The physical pieces a logical line was joined from, in order. */
export class LinePositions {
  private readonly segments: Segment[] = [];

  add(offset: number, line: number, column: number): void {
    this.segments.push({ offset, line, column });
  }

  /** The physical position of the character at `offset` of the logical line. */
  at(offset: number): SourcePosition {
    const segments = this.segments;
    let k = segments.length - 1;
    // A segment that contributed no text shares its offset with the next one; prefer the later line only past it.
    while (k > 0 && (segments[k] as Segment).offset > offset) k--;
    while (k > 0 && (segments[k] as Segment).offset === offset && (segments[k - 1] as Segment).offset === offset) k--;
    const seg = segments[k] as Segment;
    return { line: seg.line, column: seg.column + offset - seg.offset };
  }
}
