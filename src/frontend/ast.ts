// The Dockerfile syntax tree: what the parser produces and the instruction layer reads.

/** A heredoc attached to an instruction (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`). */
export interface HeredocNode {
  /** The terminator word, without quotes. */
  readonly name: string;
  /** The body, with the terminator line removed (and leading tabs stripped for `<<-`). Ends in "\n" unless empty. */
  readonly content: string;
  /** False when the terminator was quoted: the body is taken literally, with no expansion. */
  readonly expand: boolean;
  /** True for `<<-`. */
  readonly chomp: boolean;
  /** The file descriptor prefix (`3<<EOF`), if any. */
  readonly fd?: number;
}

export interface InstructionNode {
  /** Lower-case keyword ("run"), as in the conformance dumps. */
  readonly keyword: string;
  /** The keyword exactly as written ("Run"), for error messages. */
  readonly original: string;
  /** Leading `--flags`, as in the dumps: quotes removed, escapes applied, "--" kept ("--from=build"). */
  readonly flags: readonly string[];
  /** Arguments shaped per instruction exactly as the conformance dumps expect (see shared/conformance/README.md). */
  readonly args: readonly string[];
  /** True when the arguments came from a JSON array (exec form). */
  readonly json: boolean;
  /** ONBUILD's nested instruction. */
  readonly next?: InstructionNode;
  readonly heredocs: readonly HeredocNode[];
  /** 1-based physical lines, inclusive (continuations, skipped comments and heredoc bodies included). */
  readonly startLine: number;
  readonly endLine: number;
  /** 1-based column of the keyword on startLine. */
  readonly column: number;
  /** The logical line after continuation joining (keyword included), for messages and history. */
  readonly text: string;
}

export interface DirectiveNode {
  readonly name: string;
  readonly value: string;
  readonly line: number;
}

/** A non-fatal parser finding, e.g. an empty continuation line (rule NoEmptyContinuation). */
export interface ParseWarning {
  readonly rule: string;
  readonly message: string;
  readonly line: number;
}

export interface DockerfileAst {
  readonly file: string;
  /** The original source lines (for error excerpts). */
  readonly lines: readonly string[];
  readonly directives: readonly DirectiveNode[];
  /** "\\" or "`". */
  readonly escapeChar: string;
  readonly children: readonly InstructionNode[];
  readonly warnings: readonly ParseWarning[];
  /** First instruction's start line to last instruction's end line. */
  readonly startLine: number;
  readonly endLine: number;
}
