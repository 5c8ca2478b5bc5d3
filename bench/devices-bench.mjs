// Several Edge TPUs per host (run after `npm run build`): `npm run bench:devices [-- --json] [-- --duration 120]
// [-- --quick] [-- --device usb3] [-- --section 1|2]`.
//
// Everything reported is SIMULATED (virtual time, @swapless/sim, one FCFS queue per device) on catalogs whose Edge
// TPU stages are EMULATED (device model, every device of one profile) and whose CPU stages were MEASURED on this
// machine (profiler, auto cuts, 1 and 2 threads, 5 repetitions, cached). Every run of one workload sees the same
// arrival times (seeded trace); the devices are emulated, none exists here.
//
// 1. Placement: mixes on 2 and on 4 devices, 4 cores, and on hosts whose devices have different profiles (a usb3
//    and a pcie device; a usb3 and a usb2 one), each tenant planned and simulated on every device with its catalog
//    for that device's profile (`withDeviceCatalogs`). Mean response of swapless (adaptive: rate estimator, fast
//    search per placement, hysteresis) against the static oracle over placements, cuts and cores (the model's best
//    configuration of every placement up to symmetry, and the baselines spread over the devices, each simulated).
//    Target: swapless / oracle ≤ 1.05.
// 2. A four-tenant mix on 2 devices against the same mix on 1 device, both planned by swapless. Target: the mean on
//    2 devices at least 40 % lower. The mixes load one device to 50–60 % of its whole-model capacity (before
//    reloads), so that the one-device case is still stable: the comparison is between two working systems.

import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { createPolicy, runPolicyInSim, withDeviceCatalogs } from '@swapless/controller';
import { generateZooModel } from '@swapless/zoo';
import { wholeTpuMs, zooCatalogs } from './zoo-catalogs.mjs';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const at = (name) => args.indexOf(name);
const durationMs = (at('--duration') === -1 ? (quick ? 40 : 120) : Number(args[at('--duration') + 1])) * 1000;
const profile = at('--device') === -1 ? 'usb3' : args[at('--device') + 1];
const warmupMs = durationMs / 10;
const seed = 1;
const section = at('--section') === -1 ? 0 : Number(args[at('--section') + 1]);
const log = (line = '') => {
  if (!json) console.log(line);
};
log(
  `SwapLess devices benchmark — ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}, load ${loadavg()[0].toFixed(2)}`,
);
log(
  `All latencies SIMULATED (${durationMs / 1000} s per run, ${warmupMs / 1000} s warm-up, seed ${seed}); every device an EMULATED Edge TPU (${profile} unless a row names its profiles); CPU stages measured here.`,
);

const catalog = zooCatalogs({ device: profile });
/** `n` devices of the benchmark's profile, or one device per profile of `n` when it is a list. */
const devicesOf = (n) =>
  Array.isArray(n)
    ? n.map((p, i) => ({ id: `tpu-${i}`, profile: p }))
    : Array.from({ length: n }, (_, i) => ({ id: `tpu-${i}`, profile }));

/**
 * Tenants of a mix: [zoo model, share of its whole-model Edge TPU call's capacity (on the benchmark's profile)].
 * On devices of other profiles, each tenant's catalog for theirs (same cuts and CPU stages, re-timed Edge TPU).
 */
async function tenantsOf(mix, devices = []) {
  const out = [];
  for (const [i, [name, u]] of mix.entries()) {
    const cat = await catalog(name);
    const bytes = new Uint8Array(await readFile((await generateZooModel(name)).path));
    out.push({
      name: `${name}#${i}`,
      catalog: withDeviceCatalogs(bytes, cat, devices, profile),
      rate: (u * 1000) / wholeTpuMs(cat),
    });
  }
  return out;
}

function run(tenants, cores, devices, policyName) {
  const policy = createPolicy(
    policyName,
    policyName === 'oracle' ? { durationMs, warmupMs, seed, topN: 20 } : undefined,
  );
  const r = runPolicyInSim(
    { tenants, cores, durationMs, warmupMs, seed, ...(devices.length > 1 ? { devices } : {}) },
    policy,
  );
  const last = r.decisions.at(-1);
  return {
    meanMs: r.meanResponseMs,
    p99Ms: Math.max(...r.tenants.map((t) => t.p99Ms)),
    reconfigurations: r.reconfigurations,
    placement: last.tenants.map((c) => `${c.device ?? 'tpu-0'}:${c.k}/${c.cores}`).join(' '),
    devices: (r.sim.devices ?? []).map((d) => ({
      id: d.id,
      tpuUtilization: d.tpuUtilization,
      tenants: d.tenants,
    })),
  };
}

const f = (x) => (Number.isFinite(x) ? x.toFixed(2).padStart(8) : '     n/a');

// --- 1. swapless against the static oracle over placements, cuts and cores
const placementCases = [
  {
    devices: 2,
    mix: [
      ['mobilenet_v2', 0.5],
      ['resnet50_v1', 0.4],
      ['inception_v4', 0.3],
      ['efficientnet_edgetpu_s', 0.4],
    ],
  },
  {
    devices: 2,
    mix: [
      ['mobilenet_v1', 0.6],
      ['resnet50_v1', 0.5],
      ['squeezenet', 0.5],
    ],
  },
  {
    devices: 4,
    mix: [
      ['mobilenet_v2', 0.6],
      ['resnet50_v1', 0.5],
      ['inception_v4', 0.4],
      ['efficientnet_edgetpu_s', 0.5],
    ],
  },
  {
    devices: 4,
    mix: [
      ['mobilenet_v1', 0.5],
      ['resnet50_v1', 0.4],
      ['squeezenet', 0.6],
      ['inception_v4', 0.3],
      ['mobilenet_v2', 0.5],
    ],
  },
  {
    devices: ['usb3', 'pcie'],
    mix: [
      ['mobilenet_v2', 0.5],
      ['resnet50_v1', 0.4],
      ['inception_v4', 0.3],
      ['efficientnet_edgetpu_s', 0.4],
    ],
  },
  {
    devices: ['usb3', 'usb2'],
    mix: [
      ['mobilenet_v1', 0.4],
      ['resnet50_v1', 0.3],
      ['squeezenet', 0.4],
    ],
  },
];
const cases =
  section === 2 ? [] : quick ? [placementCases[0], placementCases[2], placementCases[4]] : placementCases;
if (cases.length > 0) {
  log();
  log('1. swapless against the static oracle over placements, cuts and cores (4 CPU cores)');
  log(
    `${'devices  mix (rates req/s)'.padEnd(86)} swapless   oracle   sw/or   swapless placement device:k/cores`,
  );
}
const placement = [];
for (const c of cases) {
  const devices = devicesOf(c.devices);
  const tenants = await tenantsOf(c.mix, devices);
  const swapless = run(tenants, 4, devices, 'swapless');
  const oracle = run(tenants, 4, devices, 'oracle');
  const hostLabel = Array.isArray(c.devices) ? c.devices.join('+') : String(c.devices);
  const label = `${hostLabel.padEnd(8)} ${tenants.map((t) => `${t.name.split('#')[0]} @ ${t.rate.toFixed(1)}`).join(' + ')}`;
  const ratio = swapless.meanMs / oracle.meanMs;
  placement.push({ devices: c.devices, label, swapless, oracle, swaplessOverOracle: ratio });
  log(
    `${label.padEnd(86)} ${f(swapless.meanMs)} ${f(oracle.meanMs)}   ${ratio.toFixed(3)}   [${swapless.placement}]`,
  );
  log(
    `${''.padEnd(86)} utilisation per device (swapless): ${swapless.devices.map((d) => `${d.id} ${d.tpuUtilization.toFixed(2)}`).join(', ')}`,
  );
}
const ratios = placement.map((p) => p.swaplessOverOracle);
if (ratios.length > 0)
  log(
    `swapless/oracle: max ${Math.max(...ratios).toFixed(3)} (${ratios.filter((x) => x <= 1.05).length}/${ratios.length} ≤ 1.05; target ≤ 1.05)`,
  );

// --- 2. four tenants on 2 devices against the same four on 1 device
log();
log('2. a four-tenant mix on 2 devices against the same mix on 1 device (swapless both, 4 CPU cores)');
const doubling = [];
const mixes = [
  [
    ['mobilenet_v2', 0.2],
    ['resnet50_v1', 0.15],
    ['inception_v4', 0.1],
    ['efficientnet_edgetpu_s', 0.15],
  ],
  [
    ['mobilenet_v1', 0.15],
    ['squeezenet', 0.15],
    ['resnet50_v1', 0.1],
    ['mobilenet_v2', 0.1],
  ],
];
for (const mix of section === 1 ? [] : quick ? mixes.slice(0, 1) : mixes) {
  const tenants = await tenantsOf(mix);
  const one = run(tenants, 4, devicesOf(1), 'swapless');
  const two = run(tenants, 4, devicesOf(2), 'swapless');
  const lower = 1 - two.meanMs / one.meanMs;
  const label = tenants.map((t) => `${t.name.split('#')[0]} @ ${t.rate.toFixed(1)}`).join(' + ');
  doubling.push({ label, oneDevice: one, twoDevices: two, meanLowerBy: lower });
  log(
    `  ${label.padEnd(84)} 1 device ${f(one.meanMs)} ms, 2 devices ${f(two.meanMs)} ms: ${(100 * lower).toFixed(1)} % lower [${two.placement}]`,
  );
}
const lowers = doubling.map((d) => d.meanLowerBy);
if (lowers.length > 0)
  log(
    `2 devices vs 1: mean lower by min ${(100 * Math.min(...lowers)).toFixed(1)} % (${lowers.filter((x) => x >= 0.4).length}/${lowers.length} ≥ 40 %; target ≥ 40 %)`,
  );
if (json) console.log(JSON.stringify({ durationMs, profile, placement, doubling }, null, 2));
