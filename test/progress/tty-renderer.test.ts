import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { TtyRenderer } from '../../src/progress/tty-renderer.js';
import type { ProgressEvent } from '../../src/progress/types.js';
import { expectGolden } from './golden.js';
import { Screen } from './screen.js';

/** A renderer on a fake clock, drawing only when told to. */
function setup(columns = 80, rows = 24, color = false): { screen: Screen; tty: TtyRenderer; clock: { t: number } } {
  const clock = { t: 1_000_000 };
  const screen = new Screen(columns, rows);
  const tty = new TtyRenderer(screen, { now: () => clock.t, intervalMs: 0, color });
  return { screen, tty, clock };
}

const FROM = '[1/4] FROM docker.io/library/busybox:latest';
const COPY = '[2/4] COPY app.sh /app/';
const MAKE = '[3/4] RUN make';
const ECHO = '[4/4] RUN echo done > /done';

function started(id: string, name: string, at: number): ProgressEvent {
  return { kind: 'vertex-started', id, name, at };
}

describe('TtyRenderer', () => {
  it('collapses a successful build into the BuildKit-style summary', () => {
    const { screen, tty, clock } = setup();
    const emit = (event: ProgressEvent): void => tty.emit(event);
    clock.t += 100;
    emit({ kind: 'vertex-cached', id: 'a', name: FROM });
    emit({ kind: 'bytes', id: 'context', label: 'transferring context', current: 0, total: 2048 });
    clock.t += 100;
    emit({ kind: 'bytes', id: 'context', label: 'transferring context', current: 2048, total: 2048 });
    emit(started('b', COPY, clock.t));
    tty.redraw();
    clock.t += 300;
    emit({ kind: 'vertex-done', id: 'b', name: COPY, durationMs: 300 });
    emit({ kind: 'vertex-miss-reason', id: 'c', name: MAKE, reason: 'a file it copies changed: app.sh' });
    emit(started('c', MAKE, clock.t));
    for (let n = 1; n <= 9; n += 1) emit({ kind: 'vertex-log', id: 'c', stream: 'stdout', data: `cc -c part${n}.c\n` });
    emit({ kind: 'vertex-log', id: 'c', stream: 'stderr', data: 'linking' });
    clock.t += 1234;
    tty.redraw();

    // The live frame: the running step's timer and the last six lines of its output, the partial line last.
    const live = screen.text();
    expect(live).toMatch(/^ => \[3\/4\] RUN make +1\.2s$/m);
    expect(live).toContain(' => => # cc -c part5.c');
    expect(live).toContain(' => => # linking');
    expect(live).not.toContain('part4.c');
    expect(live).toMatch(/^\[\+\] Building 1\.7s \(2\/3\)$/m);

    clock.t += 2000;
    tty.redraw();
    expect(screen.text()).toMatch(/^ => \[3\/4\] RUN make +3\.2s$/m);
    emit({ kind: 'vertex-done', id: 'c', name: MAKE, durationMs: 3234 });
    emit(started('d', ECHO, clock.t));
    emit({ kind: 'bytes', id: 'export', label: 'exporting layers', current: 12_300_000, total: 27_000_000 });
    clock.t += 150;
    tty.redraw();
    expect(screen.text()).toMatch(/^ => exporting layers \[=========> {10}\] 45% 12\.3MB\/27\.0MB +0\.1s$/m);
    emit({ kind: 'vertex-done', id: 'd', name: ECHO, durationMs: 150 });
    clock.t += 250;
    emit({ kind: 'bytes', id: 'export', label: 'exporting layers', current: 27_000_000, total: 27_000_000 });
    emit({ kind: 'warning', message: 'JSONArgsRecommended: JSON arguments recommended for CMD', location: 'Dockerfile:5' });
    emit({ kind: 'info', message: 'writing image sha256:4f2c done' });
    tty.close();

    expect(screen.overflow).toBeUndefined();
    // Never clear from the frame's top corner: tmux would keep the cleared frame in its scrollback.
    expect(screen.raw).not.toMatch(/\x1b\[\d+A\x1b\[J/);
    expectGolden('tty-success.txt', screen.text());
  });

  it('prints a failed step with its whole output and marks the steps stopped with it as canceled', () => {
    const { screen, tty, clock } = setup();
    tty.emit({ kind: 'vertex-cached', id: 'a', name: '[build 1/3] FROM busybox' });
    tty.emit(started('b', '[build 2/3] RUN sleep 5', clock.t));
    tty.emit(started('c', '[build 3/3] RUN ./test.sh', clock.t));
    for (let n = 1; n <= 8; n += 1) tty.emit({ kind: 'vertex-log', id: 'c', stream: 'stdout', data: `test ${n} ok\n` });
    tty.emit({ kind: 'vertex-log', id: 'c', stream: 'stderr', data: '\x1b[31mtest 9 FAILED\x1b[0m: expected 2, got 3' });
    clock.t += 420;
    tty.redraw();
    expect(screen.text()).toContain(' => => # test 9 FAILED: expected 2, got 3');
    tty.emit({ kind: 'vertex-failed', id: 'c', name: '[build 3/3] RUN ./test.sh', message: 'exit code 1', durationMs: 420 });
    clock.t += 10;
    tty.emit({ kind: 'vertex-failed', id: 'b', name: '[build 2/3] RUN sleep 5', message: 'cancelled', durationMs: 430 });
    tty.close();

    expectGolden('tty-failure.txt', screen.text());
  });

  it('shows a step still running when the display closes as canceled with its time so far', () => {
    const { screen, tty, clock } = setup();
    tty.emit(started('a', '[1/1] RUN sleep 60', clock.t));
    clock.t += 2500;
    tty.close();
    expect(screen.text()).toMatch(/^ => CANCELED \[1\/1\] RUN sleep 60 +2\.5s$/m);
    expect(screen.text()).toMatch(/^\[\+\] Building 2\.5s \(0\/1\) FINISHED$/m);
  });

  it('truncates long step names and log lines to the terminal width and keeps the timer visible', () => {
    const { screen, tty, clock } = setup(40, 24);
    const name = `[2/2] RUN ${'x'.repeat(200)}`;
    tty.emit(started('a', name, clock.t));
    tty.emit({ kind: 'vertex-log', id: 'a', stream: 'stdout', data: `${'y'.repeat(300)}\n` });
    tty.emit({ kind: 'vertex-log', id: 'a', stream: 'stdout', data: `${'漢'.repeat(100)}\n` });
    clock.t += 1500;
    tty.redraw();
    const lines = screen.text().split('\n').filter((line) => line !== '');
    expect(lines.length).toBe(4);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(39);
    expect(lines[1]).toMatch(/^ => \[2\/2\] RUN x+ 1\.5s$/);
    expect(lines[1]).toHaveLength(39);
    // Wide characters take two columns each: 39 columns minus the 9-column prefix leave room for 15.
    expect(lines[3]).toBe(` => => # ${'漢'.repeat(15)}`);
    tty.close();
    for (const line of screen.text().split('\n')) expect(line.length).toBeLessThanOrEqual(39);
    expect(screen.overflow).toBeUndefined();
  });

  it('fits the live frame in the terminal height and keeps every running step visible', () => {
    const { screen, tty, clock } = setup(80, 13);
    for (let n = 1; n <= 20; n += 1) tty.emit({ kind: 'vertex-cached', id: `done${n}`, name: `[${n}/22] COPY f${n} /` });
    for (const id of ['r1', 'r2']) {
      tty.emit(started(id, `[build] RUN ${id}`, clock.t));
      for (let n = 1; n <= 6; n += 1) tty.emit({ kind: 'vertex-log', id, stream: 'stdout', data: `${id} line ${n}\n` });
    }
    clock.t += 700;
    tty.redraw();
    const lines = screen.text().split('\n').filter((line) => line !== '');
    // One row stays free for the cursor so the frame never scrolls.
    expect(lines.length).toBe(12);
    expect(lines[0]).toBe('[+] Building 0.7s (20/22)');
    expect(lines).toContain(` => [build] RUN r1${' '.repeat(79 - 18 - 4)}0.7s`);
    expect(lines.some((line) => line.startsWith(' => [build] RUN r2'))).toBe(true);
    // Both tails shrink evenly to what fits (4 lines each), the most recent finished step fills the last row.
    expect(lines.filter((line) => line.startsWith(' => => # r1'))).toEqual([3, 4, 5, 6].map((n) => ` => => # r1 line ${n}`));
    expect(lines[1]).toMatch(/^ => CACHED \[20\/22\] COPY f20 \//);
    tty.close();
    expect(screen.text().split('\n').filter((line) => line.includes('CACHED'))).toHaveLength(20);
  });

  it('redraws in place: the screen holds one frame however many were drawn', () => {
    const { screen, tty, clock } = setup();
    tty.emit(started('a', '[1/2] RUN a', clock.t));
    for (let n = 0; n < 5; n += 1) {
      clock.t += 100;
      tty.emit({ kind: 'vertex-log', id: 'a', stream: 'stdout', data: `tick ${n}\n` });
      tty.redraw();
    }
    tty.emit({ kind: 'vertex-done', id: 'a', name: '[1/2] RUN a', durationMs: 500 });
    tty.redraw();
    expect(screen.text().split('\n').filter((line) => line.startsWith('[+] Building'))).toHaveLength(1);
    expect(screen.text()).toBe(['[+] Building 0.5s (1/1)', ` => [1/2] RUN a${' '.repeat(79 - 15 - 4)}0.5s`, ''].join('\n'));
    expect(screen.raw).toContain('\r\x1b[3A');
  });

  it('dims log tails and paints running steps and errors when colour is on', () => {
    const { screen, tty, clock } = setup(80, 24, true);
    tty.emit(started('a', '[1/2] RUN a', clock.t));
    tty.emit({ kind: 'vertex-log', id: 'a', stream: 'stdout', data: 'hello\n' });
    tty.redraw();
    expect(screen.raw).toContain('\x1b[2m => => # hello\x1b[0m');
    expect(screen.raw).toMatch(/\x1b\[34m => \[1\/2\] RUN a +0\.0s\x1b\[0m/);
    tty.emit({ kind: 'vertex-failed', id: 'a', name: '[1/2] RUN a', message: 'exit code 2', durationMs: 10 });
    tty.close();
    expect(screen.raw).toMatch(/\x1b\[31m => ERROR \[1\/2\] RUN a +0\.0s\x1b\[0m/);
  });

  it('keeps terminal control sequences from step output out of the display', () => {
    const { screen, tty } = setup();
    tty.emit(started('a', '[1/1] RUN wget', 0));
    tty.emit({ kind: 'vertex-log', id: 'a', stream: 'stderr', data: ' 10%\r 50%\r 90%\x1b[2J\x07' });
    tty.redraw();
    expect(screen.text()).toContain(' => => #  90%');
    expect(screen.text()).not.toContain('10%');
  });

  it('redraws on its own timer until closed, then writes nothing more', async () => {
    const screen = new Screen(80, 24);
    const tty = new TtyRenderer(screen, { intervalMs: 10, color: false });
    tty.emit(started('a', '[1/1] RUN sleep 1', Date.now()));
    await sleep(80);
    expect(screen.raw).toContain(' => [1/1] RUN sleep 1');
    tty.close();
    const after = screen.raw.length;
    await sleep(50);
    expect(screen.raw.length).toBe(after);
    expect(screen.text()).toMatch(/^ => CANCELED \[1\/1\] RUN sleep 1/m);
  });

  it('prints warnings and messages that arrive after close as plain lines', () => {
    const { screen, tty } = setup();
    tty.close();
    tty.emit({ kind: 'warning', message: 'late warning', location: 'Dockerfile:2' });
    tty.emit({ kind: 'info', message: 'naming to kiln.local/app:latest' });
    tty.emit({ kind: 'vertex-started', id: 'x', name: 'ignored', at: 0 });
    expect(screen.text()).toBe(['[+] Building 0.0s (0/0) FINISHED', 'WARNING: late warning (Dockerfile:2)', 'naming to kiln.local/app:latest', ''].join('\n'));
  });
});
