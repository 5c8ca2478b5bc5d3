// Shared by the server benches (server-bench.mjs, overload-bench.mjs): the command line, the server child
// process, and the self time by function of a V8 .cpuprofile (what `node --cpu-prof` writes).

import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The bench's command line: prints the header comment of the file at `metaUrl` (its help) and exits for `--help`;
 * else returns the arguments and `opt(name, fallback)`, the value after a flag.
 */
export async function benchArgs(metaUrl) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    const lines = (await readFile(fileURLToPath(metaUrl), 'utf8')).split('\n');
    const header = lines.slice(
      0,
      lines.findIndex((line) => !line.startsWith('//')),
    );
    console.log(header.map((line) => line.replace(/^\/\/ ?/, '')).join('\n'));
    process.exit(0);
  }
  const opt = (name, fallback) => {
    const at = args.indexOf(name);
    return at === -1 ? fallback : args[at + 1];
  };
  return { args, opt };
}

/**
 * Spawns `node …args`; resolves once the child printed its first stdout line (the server's `--json` startup
 * summary: `{ urls: { base } }`) with the child, that summary, a promise of its exit and its stderr so far.
 */
export async function spawnReady(args, options = {}) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-16_000);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const summary = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve(JSON.parse(out.slice(0, nl)));
    });
    exited.then(({ code, signal }) =>
      reject(new Error(`the child exited (code ${code}, signal ${signal}) before it was ready:\n${stderr}`)),
    );
  });
  return { child, summary, exited, stderr: () => stderr };
}

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
