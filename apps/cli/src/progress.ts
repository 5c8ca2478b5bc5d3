/**
 * Draws library progress events on stderr: a bar redrawn in place on a terminal, and plain lines (at most
 * one a second, plus the last) when stderr is a file or a pipe, so CI logs stay readable.
 */
import type { ProgressEvent, ProgressListener } from '@swapless/core';

/** Where the bar is drawn; stderr in the CLI, a buffer in tests. */
export interface ProgressSink {
  write(text: string): void;
  /** True for an interactive terminal (redraw in place). */
  isTTY: boolean;
}

const WIDTH = 24;

/** Renders one event as `phase [#####.....] done/total label`. */
export function renderProgress(e: ProgressEvent): string {
  const total = Math.max(1, e.total);
  const filled = Math.round((WIDTH * Math.min(e.done, total)) / total);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}`;
  return `${e.phase} [${bar}] ${e.done}/${e.total}${e.label ? ` ${e.label}` : ''}`;
}

/** A listener drawing on `sink`; call `done()` once the work is over to end the line. */
export function progressBar(sink: ProgressSink): ProgressListener & { done(): void } {
  let last = 0;
  let shown = '';
  let open = false;
  const listener = ((e: ProgressEvent) => {
    const line = renderProgress(e);
    if (sink.isTTY) {
      sink.write(`\r${line.padEnd(shown.length)}`);
      shown = line;
      open = true;
      return;
    }
    const now = Date.now();
    if (e.done >= e.total || now - last >= 1000) {
      sink.write(`${line}\n`);
      last = now;
    }
  }) as ProgressListener & { done(): void };
  listener.done = () => {
    if (open) sink.write('\n');
    open = false;
  };
  return listener;
}

/** The CLI's stderr as a progress sink. */
export const stderrSink: ProgressSink = {
  write: (t) => process.stderr.write(t),
  get isTTY() {
    return process.stderr.isTTY === true;
  },
};
