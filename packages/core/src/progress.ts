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
