// Lays out the TTY display: the live frame (fits the terminal, running steps first to keep) and the final summary.
import { BuildProgress, TAIL_LINES, type StepStatus, type StepView, type TransferView } from './tty-state.js';
import { alignRow, formatBytes, formatSeconds, formatTransfer, terminalSafe, truncateToWidth } from './tty-format.js';

export interface FrameOptions {
  /** Widest a line may be; the caller passes one less than the terminal so no line ever wraps. */
  readonly columns: number;
  /** Most lines the live frame may take. */
  readonly rows: number;
  readonly color: boolean;
  readonly now: number;
  /** When the build began, for the header clock. */
  readonly startedAt: number;
}

type Paint = 'run' | 'error' | 'cancel' | 'dim' | 'warn' | 'none';
const SGR: Record<Exclude<Paint, 'none'>, string> = { run: '\x1b[34m', error: '\x1b[31m', cancel: '\x1b[33m', dim: '\x1b[2m', warn: '\x1b[33m' };

function paint(text: string, how: Paint, color: boolean): string {
  return color && how !== 'none' && text !== '' ? `${SGR[how]}${text}\x1b[0m` : text;
}

const STATUS_LABEL: Record<StepStatus, string> = { running: '', done: '', cached: 'CACHED ', failed: 'ERROR ', cancelled: 'CANCELED ' };
const STATUS_PAINT: Record<StepStatus, Paint> = { running: 'run', done: 'none', cached: 'none', failed: 'error', cancelled: 'cancel' };

function header(progress: BuildProgress, opts: FrameOptions, final: boolean): string {
  const steps = progress.steps;
  const completed = steps.filter((step) => step.status !== 'running').length;
  const text = `[+] Building ${formatSeconds(opts.now - opts.startedAt)} (${completed}/${steps.length})${final ? ' FINISHED' : ''}`;
  return truncateToWidth(text, opts.columns);
}

function stepRow(step: StepView, opts: FrameOptions, final: boolean): string {
  // A step still running when the display closes was stopped with the build.
  const status = final && step.status === 'running' ? 'cancelled' : step.status;
  const elapsed = step.durationMs ?? opts.now - step.startedAt;
  const label = STATUS_LABEL[status];
  const how = STATUS_PAINT[status];
  return paint(alignRow(` => ${label}${terminalSafe(step.name)}`, formatSeconds(elapsed), opts.columns), how, opts.color);
}

function transferDone(transfer: TransferView): boolean {
  return transfer.total !== undefined && transfer.current >= transfer.total;
}

function transferRow(transfer: TransferView, nested: boolean, opts: FrameOptions, final: boolean): string {
  const elapsed = (final || transferDone(transfer) ? transfer.lastAt : opts.now) - transfer.firstAt;
  const amount = final
    ? transferDone(transfer) || transfer.total === undefined
      ? formatBytes(transfer.current)
      : `${formatBytes(transfer.current)}/${formatBytes(transfer.total)}`
    : formatTransfer(transfer.current, transfer.total);
  const prefix = nested ? ' => => ' : ' => ';
  return alignRow(`${prefix}${terminalSafe(transfer.label)} ${amount}`, formatSeconds(elapsed), opts.columns);
}

function logRow(line: string, opts: FrameOptions): string {
  return paint(truncateToWidth(` => => # ${terminalSafe(line)}`, opts.columns), 'dim', opts.color);
}

/** How many tail lines each running step may show so that all of them fit in `room` lines. */
function tailBudget(tails: readonly number[], room: number): number {
  for (let lines = TAIL_LINES; lines > 0; lines -= 1) {
    if (tails.reduce((sum, count) => sum + Math.min(count, lines), 0) <= room) return lines;
  }
  return 0;
}

/** The live frame: header, steps in start order, running steps' transfers and log tails, loose transfers. */
export function liveFrame(progress: BuildProgress, opts: FrameOptions): string[] {
  const steps = progress.steps;
  const stepIds = new Set(steps.map((step) => step.id));
  const loose = progress.transfers.filter((transfer) => !stepIds.has(transfer.id));
  const attached = (step: StepView): TransferView[] =>
    step.status === 'running' ? progress.transfers.filter((transfer) => transfer.id === step.id) : [];
  const running = steps.filter((step) => step.status === 'running');
  const moving = loose.filter((transfer) => !transferDone(transfer));

  // Lines that must show: the header, every running step with its transfers, transfers under way.
  const mustShow = running.reduce((sum, step) => sum + 1 + attached(step).length, 0) + moving.length;
  let room = Math.max(1, opts.rows) - 1 - mustShow;
  const tailLines = tailBudget(running.map((step) => progress.liveTail(step, TAIL_LINES).length), Math.max(0, room));
  room -= running.reduce((sum, step) => sum + progress.liveTail(step, tailLines).length, 0);
  // Finished work fills what is left, the most recent steps first: the oldest scroll away as in BuildKit.
  const finished = steps.filter((step) => step.status !== 'running');
  const shownFinished = new Set(room > 0 ? finished.slice(-room) : []);
  room -= shownFinished.size;
  const finishedTransfers = loose.filter(transferDone);
  const shownTransfers = new Set([...moving, ...(room > 0 ? finishedTransfers.slice(-room) : [])]);

  const lines = [header(progress, opts, false)];
  for (const step of steps) {
    if (step.status === 'running') {
      lines.push(stepRow(step, opts, false));
      for (const transfer of attached(step)) lines.push(transferRow(transfer, true, opts, false));
      if (tailLines > 0) for (const line of progress.liveTail(step, tailLines)) lines.push(logRow(line, opts));
    } else if (shownFinished.has(step)) {
      lines.push(stepRow(step, opts, false));
    }
  }
  for (const transfer of loose) if (shownTransfers.has(transfer)) lines.push(transferRow(transfer, false, opts, false));
  // More running work than rows: keep the header and the first steps rather than scroll the frame apart.
  return lines.slice(0, Math.max(1, opts.rows));
}

function failedLog(step: StepView): string[] {
  const output = [...(step.omittedLines > 0 ? [`[${step.omittedLines} earlier lines omitted]`] : []), ...step.full.map(terminalSafe)];
  if (output.length === 0) return [];
  return ['------', ` > ${terminalSafe(step.name)}:`, ...output, '------'];
}

/** The display once the build ends: every step with its final state, then failed steps' output and warnings. */
export function finalSummary(progress: BuildProgress, opts: FrameOptions): string[] {
  const steps = progress.steps;
  const stepIds = new Set(steps.map((step) => step.id));
  const lines = [header(progress, opts, true)];
  for (const step of steps) {
    lines.push(stepRow(step, opts, true));
    if (step.missReason !== undefined) {
      lines.push(paint(truncateToWidth(` => => cache miss: ${terminalSafe(step.missReason)}`, opts.columns), 'dim', opts.color));
    }
    for (const transfer of progress.transfers) if (transfer.id === step.id) lines.push(transferRow(transfer, true, opts, true));
  }
  for (const transfer of progress.transfers) if (!stepIds.has(transfer.id)) lines.push(transferRow(transfer, false, opts, true));
  lines.push(...progress.infos.map(terminalSafe));
  for (const step of steps) if (step.status === 'failed') lines.push(...failedLog(step));
  const warnings = progress.warnings;
  if (warnings.length > 0) {
    lines.push(paint(` ${warnings.length} warning${warnings.length === 1 ? '' : 's'} found:`, 'warn', opts.color));
    for (const warning of warnings) lines.push(paint(` - ${terminalSafe(warning)}`, 'warn', opts.color));
  }
  return lines;
}
