// Shared by the server benches: the self time by function of a V8 .cpuprofile (what `node --cpu-prof` writes).

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Now on the clock of a profile's timestamps (µs of the system's monotonic clock, shared by all processes). */
export function profileClockUs() {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Self time by function in the first .cpuprofile found in `dir`, top `n` (file paths relative to `root`), or
 * null when there is none; only the samples within `window` ({ fromUs, toUs } on {@link profileClockUs}) when
 * given. Idle time is left out of the shares: they are shares of the time the thread worked.
 */
export async function profileSummary(dir, root, n = 25, window = undefined) {
  const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return null;
  const prof = JSON.parse(await readFile(join(dir, files[0]), 'utf8'));
  const byId = new Map(prof.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let busy = 0;
  let idle = 0;
  let at = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    const node = byId.get(prof.samples[i]);
    const dt = prof.timeDeltas[i] ?? 0;
    at += dt;
    if (window !== undefined && (at < window.fromUs || at > window.toUs)) continue;
    const cf = node.callFrame;
    if (cf.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    busy += dt;
    const file = cf.url ? cf.url.replace(/^file:\/\//, '').replace(`${root}/`, '') : '';
    const key = `${cf.functionName || '(anonymous)'}  ${file}${file ? `:${cf.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, us]) => ({ fn, ms: us / 1000, share: us / busy }));
  return { busyMs: busy / 1000, idleMs: idle / 1000, top };
}

/** Prints a {@link profileSummary} under `title`. */
export function printProfile(title, summary) {
  console.log(
    `\n${title}: busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms; self time by function (share of busy):`,
  );
  for (const t of summary.top) {
    console.log(`  ${(100 * t.share).toFixed(1).padStart(5)} %  ${t.ms.toFixed(0).padStart(7)} ms  ${t.fn}`);
  }
}
