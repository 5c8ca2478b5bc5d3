// Several Edge TPUs, live: the same two-tenant open-loop load on the runtime with one emulated device and with two,
// side by side in one run, and a move of one tenant between the two devices in the middle of a run.
//
//   node bench/devices-live-bench.mjs [--seconds 10] [--rate 12]
//
// Two zoo models whose parameters do not fit the device's cache together (mobilenet_v2 and efficientnet_edgetpu_s),
// each whole on the Edge TPU (k = n: the device is the only stage, so what differs is only the device queues and
// the reloads), timing-only emulation (heads timed by the device model, not computed). Poisson arrivals, seeded.
// Prints per configuration: completed, failed, mean and p99 latency, reloads per device, and calls per device.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { defaultVariantStore } from '@swapless/compiler';
import { SeededRandom } from '@swapless/core';
import { createRuntime } from '@swapless/runtime';
import { generateZooModel } from '@swapless/zoo';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, rate: { type: 'string', default: '12' } },
});
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const MODELS = { mnv2: 'mobilenet_v2', effs: 'efficientnet_edgetpu_s' };

const bytes = {};
for (const [name, zoo] of Object.entries(MODELS))
  bytes[name] = await readFile((await generateZooModel(zoo)).path);

// Cut k = n: the whole model on the Edge TPU (n from the variant store, which parses each model once).
const ops = {};
for (const [name, b] of Object.entries(bytes)) ops[name] = defaultVariantStore().model(b).n;

/** One configuration: the open-loop load for `seconds`, with an optional move half-way. */
async function load(label, devices, placement, move) {
  const rt = await createRuntime({ cores: 1, mode: 'timing-only', devices, emulator: { seed: 1 } });
  for (const [name, b] of Object.entries(bytes)) {
    const device = placement[name];
    await rt.addTenant({
      name,
      model: b,
      choice: { k: ops[name], cores: 0, ...(device !== undefined ? { device } : {}) },
      queueLimit: 100_000,
    });
  }
  const random = new SeededRandom(7);
  const pending = [];
  const latencies = [];
  let failed = 0;
  const inputs = {};
  // timing-only: any input of the right size (the head is timed, not computed).
  for (const name of Object.keys(bytes)) inputs[name] = new Int8Array(224 * 224 * 3);
  const t0 = performance.now();
  const next = Object.fromEntries(Object.keys(bytes).map((name) => [name, t0]));
  let moved = null;
  for (;;) {
    const [name, at] = Object.entries(next).sort((a, b) => a[1] - b[1])[0];
    if (at - t0 > seconds * 1000) break;
    const wait = at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (move !== undefined && moved === null && at - t0 > (seconds * 1000) / 2) {
      moved = rt.reconfigure({
        tenants: [{ name: move.tenant, k: ops[move.tenant], cores: 0, device: move.to }],
      });
    }
    pending.push(
      rt.submit(name, [inputs[name]]).then(
        (r) => latencies.push(r.trace.latencyMs),
        () => failed++,
      ),
    );
    next[name] = at - Math.log(1 - random.nextFloat()) * (1000 / rate);
  }
  await moved;
  await Promise.all(pending);
  const stats = rt.stats();
  await rt.close();
  const sorted = Float64Array.from(latencies).sort();
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return {
    label,
    completed: sorted.length,
    failed,
    meanMs: mean,
    p99Ms: sorted[Math.floor(0.99 * (sorted.length - 1))],
    devices: stats.devices.map((d) => `${d.id}: ${d.calls} calls, ${d.reloads} reloads`).join('; '),
  };
}

const rows = [
  await load('1 device (both tenants)', [{ id: 'tpu0', profile: 'usb3' }], {}),
  await load(
    '2 devices (one tenant each)',
    [
      { id: 'tpu0', profile: 'usb3' },
      { id: 'tpu1', profile: 'usb3' },
    ],
    { mnv2: 'tpu0', effs: 'tpu1' },
  ),
  await load(
    '2 devices, effs moves tpu0 → tpu1 half-way',
    [
      { id: 'tpu0', profile: 'usb3' },
      { id: 'tpu1', profile: 'usb3' },
    ],
    { mnv2: 'tpu0', effs: 'tpu0' },
    { tenant: 'effs', to: 'tpu1' },
  ),
];
console.log(`${seconds} s, ${rate} req/s per tenant (Poisson, seeded), timing-only emulation, usb3 devices`);
for (const r of rows) {
  console.log(
    `${r.label.padEnd(44)} completed ${r.completed}, failed ${r.failed}, mean ${r.meanMs.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms | ${r.devices}`,
  );
}
console.log(`mean, 2 devices / 1 device: ${(rows[1].meanMs / rows[0].meanMs).toFixed(3)}`);
