// Text shaping for the TTY display: terminal-safe log lines, display-width truncation, times, sizes and bars.

// CSI sequences (colours, cursor moves) and OSC sequences (titles, hyperlinks) a step's output may carry.
const CSI = /\x1b\[[0-?]*[ -/]*[@-~]/g;
const OSC = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g;
// Remaining C0 controls and DEL: any of them would move the cursor and break the in-place redraw.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

/** One line of a step's output made safe to print inside the live display (no newline in `line`). */
export function terminalSafe(line: string): string {
  // A lone "\r" is how tools redraw their own progress line: what is visible is the text after the last one.
  const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
  const visible = trimmed.slice(trimmed.lastIndexOf('\r') + 1);
  return expandTabs(visible.replace(OSC, '').replace(CSI, '').replace(CONTROL, ''));
}

function expandTabs(line: string): string {
  if (!line.includes('\t')) return line;
  let out = '';
  for (const ch of line) out += ch === '\t' ? ' '.repeat(8 - (out.length % 8)) : ch;
  return out;
}

/** Columns a code point takes in a terminal: 0 for combining marks, 2 for East Asian wide and emoji. */
function widthOf(cp: number): number {
  if ((cp >= 0x300 && cp <= 0x36f) || cp === 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** Display width of text that holds no escape sequences. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += widthOf(ch.codePointAt(0) ?? 0);
  return width;
}

/** Cuts text (no escape sequences) to at most `columns` display columns. */
export function truncateToWidth(text: string, columns: number): string {
  if (columns <= 0) return '';
  let width = 0;
  let out = '';
  for (const ch of text) {
    const w = widthOf(ch.codePointAt(0) ?? 0);
    if (width + w > columns) break;
    width += w;
    out += ch;
  }
  return out;
}

/**
 * `left` then `right` flush with the last column, like BuildKit's step lines; `left` is cut when both do not fit.
 * The result is never wider than `columns`.
 */
export function alignRow(left: string, right: string, columns: number): string {
  const room = columns - displayWidth(right) - 1;
  if (room < 8) return truncateToWidth(right === '' ? left : `${left} ${right}`, columns);
  const cut = truncateToWidth(left, room);
  return `${cut}${' '.repeat(room - displayWidth(cut) + 1)}${right}`;
}

export function formatSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

/** Decimal sizes as BuildKit prints them ("512B", "12.3kB", "27.0MB"). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value}B` : `${value.toFixed(1)}${units[unit]}`;
}

const BAR_WIDTH = 20;

/** `[=========>          ] 45% 12.3MB/27.0MB`, or just the size when the total is unknown. */
export function formatTransfer(current: number, total: number | undefined): string {
  if (total === undefined || total <= 0) return formatBytes(current);
  const fraction = Math.min(1, Math.max(0, current / total));
  const filled = Math.floor(fraction * BAR_WIDTH);
  const bar = filled >= BAR_WIDTH ? '='.repeat(BAR_WIDTH) : `${'='.repeat(filled)}>${' '.repeat(BAR_WIDTH - filled - 1)}`;
  return `[${bar}] ${Math.floor(fraction * 100)}% ${formatBytes(current)}/${formatBytes(total)}`;
}
