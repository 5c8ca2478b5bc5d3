/**
 * The vetting process's watchdog: a worker thread that kills its process (SIGKILL) when the process that started it
 * is gone or when its deadline has passed. A thread, not a timer of the main thread: a model that hangs TFLite keeps
 * the main thread inside a native call (creating the interpreter, invoke, dispose), where no JavaScript timer runs.
 * And the parent cannot be relied on to clean up: one killed by a signal runs no `exit` handler, so without this a
 * child stuck in an endless invoke would outlive it for good.
 */
import { Worker } from 'node:worker_threads';

/** What the watchdog is told. */
export interface WatchdogOptions {
  /** Process id of the parent when the process started: another `process.ppid` means the parent is gone. */
  parentPid: number;
  /** Epoch time (ms) past which the process is killed (`Infinity`: never). */
  deadline: number;
  /** File descriptor on which to say `{ kind: 'deadline' }` before killing (so the parent reports a timeout), or null. */
  resultFd: number | null;
  /** How often the parent is looked for, ms (default 200). */
  pollMs?: number;
}

/**
 * The worker's program (CommonJS, run with `eval`): exported so that tests can run exactly this code in a process
 * whose main thread is blocked.
 */
export const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { parentPid, deadline, resultFd, pollMs } = workerData;
function kill() {
  process.kill(process.pid, 'SIGKILL');
}
// One poll for both, so any deadline works (a timer's delay is capped at 2^31 - 1 ms).
setInterval(() => {
  if (process.ppid !== parentPid) kill();
  if (Date.now() >= deadline) {
    if (resultFd !== null) {
      try {
        writeSync(resultFd, JSON.stringify({ kind: 'deadline' }) + '\\n');
      } catch {}
    }
    kill();
  }
}, pollMs);
`;

/** Starts the watchdog thread; it does not keep the process alive. */
export function startWatchdog(options: WatchdogOptions): Worker {
  const worker = new Worker(WATCHDOG_SOURCE, {
    eval: true,
    workerData: { pollMs: 200, ...options },
  });
  worker.unref();
  return worker;
}
