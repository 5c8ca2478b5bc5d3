/**
 * Startup progress (model generation, profiling) drawn on stderr: a bar redrawn in place on a terminal, plain
 * lines (at most one a second per phase, plus the last) when stderr is a file or a pipe, so service logs stay
 * readable.
 */
import type { ProgressEvent, ProgressListener } from '@swapless/core';

/** Where progress is drawn. */
export interface ProgressSink {
  write(text: string): void;
  /** True for an interactive terminal (redraw in place). */
  isTTY: boolean;
}

const WIDTH = 24;

/** Renders one event as `[tenant] phase [#####.....] done/total label`. */
export function renderProgress(e: ProgressEvent, prefix = ''): string {
  const total = Math.max(1, e.total);
  const filled = Math.round((WIDTH * Math.min(e.done, total)) / total);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}`;
  return `${prefix}${e.phase} [${bar}] ${e.done}/${e.total}${e.label ? ` ${e.label}` : ''}`;
}

/** A progress listener drawing on `sink`, plus `done()` to end an open line and `prefix` to label the work. */
export interface ProgressDrawer extends ProgressListener {
  /** Ends the in-place line (terminal) so the next output starts on its own line. */
  done(): void;
  /** Text put before each line (e.g. the tenant being prepared). */
  prefix: string;
}

/** A progress listener drawing on `sink`. */
export function progressDrawer(sink: ProgressSink): ProgressDrawer {
  let last = 0;
  let shown = '';
  let open = false;
  const listener = ((e: ProgressEvent) => {
    const line = renderProgress(e, listener.prefix);
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
  }) as ProgressDrawer;
  listener.prefix = '';
  listener.done = () => {
    if (open) sink.write('\n');
    open = false;
    shown = '';
  };
  return listener;
}

/** The process's stderr as a progress sink. */
export const stderrSink: ProgressSink = {
  write: (t) => process.stderr.write(t),
  get isTTY() {
    return process.stderr.isTTY === true;
  },
};
