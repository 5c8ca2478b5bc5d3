// Profiler benchmark (run after `npm run build`): `npm run bench:profile [-- --json] [-- --model resnet50_v1]
// [-- --repetitions 10] [-- --warmup 2] [-- --threads 1,2] [-- --max-cuts 12] [-- --cache-dir dir]`.
//
// Profiles a zoo model (default resnet50_v1, from @swapless/zoo's generateZooModel) at its auto cuts at 1 and 2
// threads on the real TFLite CPU runtime with XNNPACK, then profiles it again to show the cache load time.
// Prints the wall time of the measurement, per cut the suffix median at each thread count, the 1→2-thread
// speed-up (whole model, and the median over cuts), and the monotonicity report. Every time printed is
// measured on this machine ("measured"); nothing is emulated. The cache goes to a fresh temporary directory
// (removed afterwards) unless --cache-dir is given, so the first run always measures.

import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runtimeInfo } from '@swapless/edgetpu';
import { GraphBuilder } from '@swapless/int8-builder';
import { monotonicity, profileModel, suffixTime } from '@swapless/profiler';
import { writeModel } from '@swapless/tflite';

const args = process.argv.slice(2);
const json = args.includes('--json');
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : args[at + 1];
};
const modelName = flag('--model', 'resnet50_v1');
const repetitions = Number(flag('--repetitions', 10));
const warmup = Number(flag('--warmup', 2));
const maxCuts = Number(flag('--max-cuts', 12));
const threads = flag('--threads', '1,2').split(',').map(Number);

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (x) => `${x.toFixed(x < 10 ? 3 : 1)} ms`;
const log = (line = '') => {
  if (!json) console.log(line);
};

/**
 * The model: the zoo's generated file when @swapless/zoo is built, else a ResNet-like int8 stand-in from
 * GraphBuilder (bottleneck blocks with projection shortcuts), so the bench runs before the zoo exists.
 */
async function loadModel() {
  let zoo;
  try {
    zoo = await import('@swapless/zoo');
  } catch {
    zoo = undefined;
  }
  if (typeof zoo?.generateZooModel === 'function') {
    const started = performance.now();
    const generated = await zoo.generateZooModel(modelName);
    return {
      model: generated.path,
      label: `${modelName} (@swapless/zoo, ${(generated.bytes / 2 ** 20).toFixed(1)} MiB, ${generated.cached ? 'loaded from the zoo cache' : 'generated'} in ${ms(performance.now() - started)}, measured)`,
    };
  }
  const b = new GraphBuilder({ seed: 1, name: 'resnet-like' });
  let x = b.input('input', [1, 224, 224, 3]);
  x = b.conv2d(x, { filters: 64, kernel: 7, stride: 2, activation: 'relu' });
  x = b.maxPool2d(x, { size: 3, stride: 2, padding: 'same' });
  for (const [filters, blocks, stride] of [
    [64, 3, 1],
    [128, 4, 2],
    [256, 6, 2],
    [512, 3, 2],
  ]) {
    for (let i = 0; i < blocks; i++) {
      const s = i === 0 ? stride : 1;
      const shortcut = i === 0 ? b.conv2d(x, { filters: filters * 4, kernel: 1, stride: s }) : x;
      let y = b.conv2d(x, { filters, kernel: 1, stride: s, activation: 'relu' });
      y = b.conv2d(y, { filters, kernel: 3, activation: 'relu' });
      y = b.conv2d(y, { filters: filters * 4, kernel: 1 });
      x = b.add(shortcut, y, { activation: 'relu' });
    }
  }
  b.output(b.softmax(b.fullyConnected(b.mean(x, [1, 2]), { units: 1000 })));
  return {
    model: writeModel(b.build()),
    label: 'ResNet-50-like int8 224 (GraphBuilder stand-in: @swapless/zoo not built)',
  };
}

const loadStart = loadavg()[0];
const { model, label } = await loadModel();
const ownCacheDir = flag('--cache-dir') === undefined;
const cacheDir = flag('--cache-dir') ?? (await mkdtemp(join(tmpdir(), 'swapless-profile-bench-')));
const options = { cuts: 'auto', maxCuts, threads, repetitions, warmup, cacheDir };

log(`profile bench: ${label}`);
log(
  `host: ${cpus()[0]?.model ?? 'unknown'}, ${availableParallelism()} cores, load average ${loadStart.toFixed(2)}; ` +
    `TFLite ${runtimeInfo().tfliteVersion} + XNNPACK`,
);
log(
  `settings: auto cuts (max ${maxCuts}) × threads ${threads.join(',')}, ${warmup} warm-up, ${repetitions} repetitions`,
);

let lastShown = -1;
const onProgress = (e) => {
  if (json) return;
  const tenth = Math.floor((10 * e.done) / e.total);
  if (tenth !== lastShown) {
    lastShown = tenth;
    process.stderr.write(`  profiling ${e.done}/${e.total}${e.label ? ` (${e.label})` : ''}\n`);
  }
};

try {
  const started = performance.now();
  const profile = await profileModel(model, { ...options, refresh: true, onProgress });
  const wallMs = performance.now() - started;

  const reloadStarted = performance.now();
  const again = await profileModel(model, options);
  const reloadMs = performance.now() - reloadStarted;

  const [t1, t2] = [threads[0], threads[1] ?? threads[0]];
  const perCut = profile.cuts.map((c) => ({
    k: c.k,
    boundaryTensors: c.boundaryTensors,
    boundaryKiB: c.boundaryBytes / 1024,
    suffixGmac: c.suffixMacs / 1e9,
    suffix: Object.fromEntries(threads.map((t) => [t, suffixTime(profile, c.k, t).median])),
  }));
  const whole = profile.cuts[0].suffix.measurements;
  const wholeSpeedup =
    whole.find((m) => m.threads === t1).median / whole.find((m) => m.threads === t2).median;
  const cutSpeedups = perCut.filter((c) => c.suffix[t2] > 0).map((c) => c.suffix[t1] / c.suffix[t2]);
  const report = monotonicity(profile);

  const result = {
    source: 'measured',
    model: label,
    n: profile.model.n,
    edgetpuPrefix: profile.model.edgetpuPrefix,
    settings: profile.settings,
    profileWallMs: wallMs,
    profileDurationMs: profile.durationMs,
    cacheLoadMs: reloadMs,
    cacheHit: again.cached,
    speedup: { from: t1, to: t2, wholeModel: wholeSpeedup, medianOverCuts: median(cutSpeedups) },
    perCut,
    monotonicity: report,
    loadAverage: { start: loadStart, end: loadavg()[0] },
    warnings: [...profile.warnings, ...again.warnings],
  };
  if (json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    log();
    log(
      `measured: profile wall time ${(wallMs / 1000).toFixed(1)} s (n = ${profile.model.n}, mappable prefix ${profile.model.edgetpuPrefix}, ${profile.cuts.length} cuts)`,
    );
    log();
    log(
      `   k  tensors  boundary KiB  suffix GMAC  ${threads.map((t) => `suffix ${t}T (measured median)`.padStart(30)).join('')}`,
    );
    for (const c of perCut) {
      log(
        `${String(c.k).padStart(4)}  ${String(c.boundaryTensors).padStart(7)}  ${c.boundaryKiB.toFixed(1).padStart(12)}  ` +
          `${c.suffixGmac.toFixed(3).padStart(11)}  ${threads.map((t) => ms(c.suffix[t]).padStart(30)).join('')}`,
      );
    }
    log();
    log(
      `measured: ${t1}→${t2}-thread speed-up of the whole model ${wholeSpeedup.toFixed(2)}×, median over cuts ${median(cutSpeedups).toFixed(2)}×`,
    );
    if (report.monotone) {
      log(
        `measured: suffix time is monotone in k (${report.pairs} consecutive pairs checked, tolerance ${report.tolerance * 100} % and separated p10/p90)`,
      );
    } else {
      log(
        `measured: suffix time increases with k beyond noise at ${report.violations.length} of ${report.pairs} pairs:`,
      );
      for (const v of report.violations) {
        log(
          `  ${v.threads}T: k=${v.from} ${ms(v.fromMedian)} → k=${v.to} ${ms(v.toMedian)} (+${(v.excessRatio * 100).toFixed(1)} %)`,
        );
      }
    }
    log(`measured: second call loaded the cache (cached: ${again.cached}) in ${ms(reloadMs)}`);
    log(`load average at the end: ${loadavg()[0].toFixed(2)} (the profile's own threads included)`);
    for (const w of result.warnings) log(`warning: ${w}`);
  }
} finally {
  if (ownCacheDir) await rm(cacheDir, { recursive: true, force: true });
}
