/**
 * Progress of long work (generating models, profiling), reported by libraries as events and drawn by the
 * application (the CLI renders a bar on stderr). Libraries never print.
 */

/** One step of long work. */
export interface ProgressEvent {
  /** What is being done, e.g. "generate" or "profile". */
  phase: string;
  /** Units finished so far (0..total). */
  done: number;
  /** Units in all. */
  total: number;
  /** What the current unit is, e.g. a model name or "k=12, 2 threads". */
  label?: string;
}

/** Receives progress events; must be cheap and must not throw. */
export type ProgressListener = (event: ProgressEvent) => void;

/** A listener that ignores everything, the default of every API that takes one. */
export const noProgress: ProgressListener = () => {};

/** Where an application draws progress: stderr, or a buffer in tests. */
export interface ProgressSink {
  write(text: string): void;
  /** True for an interactive terminal (redraw in place). */
  isTTY: boolean;
}

const BAR_WIDTH = 24;

/** Renders one event as `<prefix>phase [#####.....] done/total label`. */
export function renderProgress(e: ProgressEvent, prefix = ''): string {
  const total = Math.max(1, e.total);
  const filled = Math.round((BAR_WIDTH * Math.min(e.done, total)) / total);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}`;
  return `${prefix}${e.phase} [${bar}] ${e.done}/${e.total}${e.label ? ` ${e.label}` : ''}`;
}

/** A progress listener that draws, plus `done()` to end an open line and `prefix` to label the work. */
export interface ProgressBar extends ProgressListener {
  /** Ends the in-place line (terminal) so the next output starts on its own line. */
  done(): void;
  /** Text put before each line (e.g. the tenant being prepared); empty by default. */
  prefix: string;
}

/**
 * The applications' progress drawer: a bar redrawn in place on a terminal, plain lines (at most one a second,
 * plus the last) when the sink is a file or a pipe, so CI and service logs stay readable.
 */
export function progressBar(sink: ProgressSink): ProgressBar {
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
  }) as ProgressBar;
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
