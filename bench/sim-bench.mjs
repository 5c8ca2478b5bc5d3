// Simulator benchmark (run after `npm run build`): `npm run bench:sim [-- --json] [-- --requests 3000000]
// [-- --repeats 3]`.
//
// Simulates 1, 2 and 4 tenants sharing one Edge TPU (separately compiled: distinct caching tokens, gamma
// jitter on the TPU time) with a CPU stage each, once with M/G/1 CPU stages and once with M/G/c (2 workers),
// and prints how many simulated requests the simulator processes per second and per minute of wall-clock
// time on this machine (median of the repeats, after one untimed warm-up run for the JIT). The latencies,
// utilisations and swap counts printed next to them are simulated (virtual-time) results, not measurements.

import { availableParallelism, cpus, loadavg } from 'node:os';
import { simulate, Xoshiro128 } from '@swapless/sim';

const args = process.argv.slice(2);
const json = args.includes('--json');
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const requests = flag('--requests', 3_000_000);
const repeats = flag('--repeats', 3);
const log = (line = '') => {
  if (!json) console.log(line);
};

// "Measured" CPU samples are synthetic here: 400 draws of a shifted exponential (the shape of invoke times).
const rng = new Xoshiro128(42);
const samples = (meanMs) => Array.from({ length: 400 }, () => meanMs * (0.6 + 0.4 * rng.exponential()));

/** n tenants, total 60 req/s: Edge TPU 2 ms ± jitter + 3 ms reload per switch, CPU 8 ms. */
function system(n, mode) {
  const cores = mode === 'mgc' ? 2 : 1;
  return {
    cores: n * cores,
    device: 'usb3',
    tenants: Array.from({ length: n }, (_, i) => ({
      name: `t${i}`,
      rate: 60 / n,
      k: 10,
      n: 30,
      cores,
      tpu: { token: `unit${i}`, serviceMs: 2, serviceVarianceMs2: 0.04, reloadMs: 3, source: 'emulated' },
      cpu: { mode, samplesMs: samples(8), source: 'measured' },
    })),
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

log(
  `SwapLess simulator benchmark — ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}, load ${loadavg()[0].toFixed(2)}`,
);
log(
  `${requests.toLocaleString('en-US')} simulated requests per run, median of ${repeats} runs after 1 warm-up; wall-clock throughput of the simulator (measured);`,
);
log('latency, utilisation and swaps columns are SIMULATED (virtual-time) results.');
log();
log(
  'tenants  cpu   requests/s (wall)  requests/min (wall)  | sim mean ms  sim p99 ms  sim TPU util  sim swaps',
);

const rows = [];
for (const n of [1, 2, 4]) {
  for (const mode of ['mg1', 'mgc']) {
    const sys = system(n, mode);
    simulate(sys, { requests: Math.min(requests, 500_000), seed: 7 });
    const times = [];
    let result;
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      result = simulate(sys, { requests, warmupMs: 10_000, seed: 7 + r });
      times.push(performance.now() - t0);
    }
    const ms = median(times);
    const perS = (result.simulatedRequests / ms) * 1000;
    const row = {
      tenants: n,
      cpuMode: mode,
      simulatedRequests: result.simulatedRequests,
      wallMs: ms,
      requestsPerS: perS,
      requestsPerMin: perS * 60,
      simulated: {
        meanResponseMs: result.meanResponseMs,
        p99Ms: Math.max(...result.tenants.map((t) => t.p99Ms)),
        tpuUtilization: result.tpuUtilization,
        swaps: result.swaps,
      },
    };
    rows.push(row);
    log(
      `${String(n).padStart(7)}  ${mode}  ${(perS / 1e6).toFixed(2).padStart(13)} M  ${((perS * 60) / 1e6).toFixed(0).padStart(16)} M  | ${row.simulated.meanResponseMs.toFixed(3).padStart(11)}  ${row.simulated.p99Ms.toFixed(3).padStart(10)}  ${row.simulated.tpuUtilization.toFixed(4).padStart(12)}  ${String(row.simulated.swaps).padStart(9)}`,
    );
  }
}

// Bounded memory: the quantile sketch instead of keeping every response time.
const sys = system(2, 'mgc');
const t0 = performance.now();
const sketched = simulate(sys, { requests, warmupMs: 10_000, seed: 7, quantiles: 'sketch' });
const sketchMs = performance.now() - t0;
const sketchPerS = (sketched.simulatedRequests / sketchMs) * 1000;
log();
log(
  `2 tenants mgc with quantiles: 'sketch' (one run): ${(sketchPerS / 1e6).toFixed(2)} M requests/s, ${((sketchPerS * 60) / 1e6).toFixed(0)} M requests/min (wall)`,
);
const target = 1_000_000;
const worst = Math.min(...rows.map((r) => r.requestsPerMin));
log(
  `Target ≥ ${target.toLocaleString('en-US')} simulated requests per minute: slowest configuration ${(worst / target).toFixed(0)}× the target.`,
);

if (json)
  console.log(
    JSON.stringify(
      {
        source: 'measured wall-clock throughput of the simulator; latency fields are simulated',
        requests,
        repeats,
        node: process.version,
        cores: availableParallelism(),
        rows,
        sketch: { requestsPerS: sketchPerS, requestsPerMin: sketchPerS * 60 },
      },
      null,
      2,
    ),
  );
