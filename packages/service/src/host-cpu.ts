/**
 * How busy the host's cores are: the cores' time in user, system and interrupt mode since the last sample, over the
 * wall time between them (`os.cpus()`). Niced time is left out: a niced process yields its core to the server's
 * threads, so it does not slow them the way an equal-priority one does.
 */
import { cpus } from 'node:os';

/** Busy core-milliseconds of every core so far (user + sys + irq). */
function busyMsNow(): number {
  let ms = 0;
  for (const c of cpus()) ms += c.times.user + c.times.sys + c.times.irq;
  return ms;
}

/** Samples the host's busy cores between calls. */
export class HostCpuMeter {
  #last: { atMs: number; busyMs: number } | null = null;

  /**
   * @param now Wall clock, ms (default `performance.now`).
   * @param busyMs Busy core-ms of the host so far (default from `os.cpus()`; tests give their own).
   */
  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly busyMs: () => number = busyMsNow,
  ) {}

  /**
   * Mean busy cores since the previous call (null at the first call, or when less than 100 ms passed — `os.cpus()`
   * counts in 10 ms ticks, too coarse for a shorter window).
   */
  sample(): number | null {
    const atMs = this.now();
    const busy = this.busyMs();
    const last = this.#last;
    if (last !== null && atMs - last.atMs < 100) return null;
    this.#last = { atMs, busyMs: busy };
    if (last === null) return null;
    const cores = (busy - last.busyMs) / (atMs - last.atMs);
    return Number.isFinite(cores) && cores >= 0 ? cores : null;
  }
}
