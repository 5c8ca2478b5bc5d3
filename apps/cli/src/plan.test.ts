import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, useTempCache } from './test-util.js';

const cacheDir = useTempCache('plan');

async function workload(value: unknown): Promise<string> {
  const path = join(cacheDir(), `w-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

describe('swapless plan', () => {
  it('plans two tenants: SwapLess vs the baselines, predicted and simulated, per phase', async () => {
    const path = await workload({
      device: 'usb3',
      cpu: { cores: 2 },
      tenants: [
        { name: 'a', model: 'squeezenet', rate: 40, sloMs: 30 },
        { name: 'b', model: 'mobilenet_v1', rate: 40 },
      ],
      phases: [{ atS: 5, rates: { a: 10 } }],
      durationS: 10,
    });
    const r = await cli('plan', path, '--json', '--repetitions', '3', '--max-cuts', '6');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.sources).toEqual({ tpu: 'emulated', cpu: 'measured', simulated: true });
    expect(j.phases.map((p: { atS: number }) => p.atS)).toEqual([0, 5]);
    const plans = j.phases[0].plans;
    expect(plans.map((p: { policy: string }) => p.policy)).toEqual(['swapless', 'default', 'cpu', 'fixed']);
    const [swapless, def] = plans;
    // The search minimises the predicted mean subject to the SLO (a p99 ≤ 30 ms): it can never predict worse than
    // a baseline that also meets it, when it sheds nothing.
    type PlanTenant = { predictedTail: { sloMet: boolean | null } | null };
    const meets = (p: { tenants: PlanTenant[] }) => p.tenants.every((t) => t.predictedTail?.sloMet !== false);
    if (swapless.slo.feasible && swapless.slo.admit.every((x: number) => x === 1)) {
      expect(meets(swapless)).toBe(true);
      for (const p of plans)
        if (p.predictedMeanMs !== null && meets(p))
          expect(swapless.predictedMeanMs).toBeLessThanOrEqual(p.predictedMeanMs + 1e-9);
    }
    expect(swapless.tenants.reduce((s: number, t: { cores: number }) => s + t.cores, 0)).toBeLessThanOrEqual(
      2,
    );
    expect(def.tenants.every((t: { k: number; n: number }) => t.k === t.n)).toBe(true);
    expect(swapless.simulatedMeanMs).toBeGreaterThan(0);
    // Predicted tails per tenant, beside the simulated ones; the SLO share only for the tenant with an SLO.
    const [a, b] = swapless.tenants;
    expect(a.predictedTail.p99Ms).toBeGreaterThanOrEqual(a.predictedTail.p95Ms);
    expect(a.predictedTail.p99Ms).toBeGreaterThan(a.predictedMs);
    expect(a.predictedTail.sloMs).toBe(30);
    expect(a.predictedTail.withinSlo).toBeGreaterThanOrEqual(0);
    expect(a.predictedTail.withinSlo).toBeLessThanOrEqual(1);
    expect(b.predictedTail.withinSlo).toBeNull();
    // sloMs without a percentile is a p99 objective: the predicted p99 decides whether it is met, and the
    // simulated share within 30 ms and the simulated p99 decide it for the simulator.
    expect(a.predictedTail.sloPercentile).toBe('p99');
    expect(a.predictedTail.sloMet).toBe(a.predictedTail.p99Ms <= 30);
    expect(a.simulated.sloMet).toBe(a.simulated.p99Ms <= 30);
    expect(a.simulated.withinSlo).toBeGreaterThanOrEqual(0);
    expect(a.simulated.cdfMs).toBeUndefined();
    expect(b.simulated.sloMet).toBeUndefined();
    expect(swapless.slo.admit).toHaveLength(2);
    const text = await cli('plan', path, '--repetitions', '3', '--max-cuts', '6', '--no-simulate');
    expect(text.out).toMatch(/pred\. p99 +sim\. p99 +pred\. SLO +sim\. SLO +admitted/);
    expect(text.out).toMatch(/\d+\.\d % ≤ 30 ms [✓✗]/);
  });

  it('places the tenants on several Edge TPUs and prints the placement with each device’s utilisation', async () => {
    const host = (devices: { id: string; profile?: string }[], tenants: number) =>
      workload({
        device: 'usb3',
        devices,
        cpu: { cores: 2 },
        tenants: [
          { name: 'a', model: 'squeezenet', rate: 40 },
          { name: 'b', model: 'mobilenet_v1', rate: 40 },
          { name: 'c', model: 'squeezenet', rate: 30 },
        ].slice(0, tenants),
        durationS: 5,
      });
    const planJson = async (path: string) => {
      const r = await cli('plan', path, '--json', '--repetitions', '3', '--max-cuts', '6');
      expect(r.status).toBe(0);
      return JSON.parse(r.out);
    };
    const path = await host([{ id: 'usb:0' }, { id: 'usb:1' }], 3);
    const j = await planJson(path);
    expect(j.devices).toEqual([
      { id: 'usb:0', profile: 'usb3' },
      { id: 'usb:1', profile: 'usb3' },
    ]);
    const [swapless, def] = j.phases[0].plans;
    for (const plan of [swapless, def]) {
      expect(plan.tenants.every((t: { device: string }) => ['usb:0', 'usb:1'].includes(t.device))).toBe(true);
      expect(plan.devices.map((d: { id: string }) => d.id)).toEqual(['usb:0', 'usb:1']);
      const onDevices = plan.devices.flatMap((d: { tenants: string[] }) => d.tenants).sort();
      expect(onDevices).toEqual(['a', 'b', 'c']);
    }
    // Separate queues: no worse than the same tenants crowded onto one device, predicted and simulated.
    expect(swapless.predictedMeanMs).toBeLessThanOrEqual(def.predictedMeanMs + 1e-9);
    expect(swapless.simulatedMeanMs).toBeGreaterThan(0);
    const text = await cli('plan', path, '--repetitions', '3', '--max-cuts', '6', '--no-simulate');
    expect(text.out).toMatch(/on 2 × usb3 \(usb:0, usb:1\)/);
    expect(text.out).toMatch(/swapless +placement: usb:0 ρ \d\.\d\d \(.*\) · usb:1 ρ \d\.\d\d/);
    // Devices of different profiles: each device planned with the tenants' catalogs for its profile.
    const mixed = await host(
      [
        { id: 'usb:0', profile: 'usb3' },
        { id: 'pci:0', profile: 'pcie' },
      ],
      2,
    );
    const mj = await planJson(mixed);
    expect(mj.devices).toEqual([
      { id: 'usb:0', profile: 'usb3' },
      { id: 'pci:0', profile: 'pcie' },
    ]);
    const placed = mj.phases[0].plans[0];
    expect(placed.devices.flatMap((d: { tenants: string[] }) => d.tenants).sort()).toEqual(['a', 'b']);
    const mixedText = await cli('plan', mixed, '--repetitions', '3', '--max-cuts', '6', '--no-simulate');
    expect(mixedText.out).toMatch(/on 2 devices \(usb:0 usb3, pci:0 pcie\)/);
  });

  it('refuses a malformed workload with every problem and its path (exit 1)', async () => {
    const path = await workload({
      tenants: [{ name: 'a', model: 'squeezenet', rate: -3 }],
      cpu: { cores: 0 },
    });
    const r = await cli('plan', path, '--json', '--repetitions', '3', '--max-cuts', '6');
    expect(r.status).toBe(1);
    const e = JSON.parse(r.out).error;
    expect(e.code).toBe('SWAPLESS_INVALID_CONFIG');
    expect(e.details.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/cpu\/cores/),
        expect.stringMatching(/^\/tenants\/0\/rate/),
      ]),
    );
    const missing = await cli('plan', join(cacheDir(), 'nope.json'), '--json');
    expect(JSON.parse(missing.out).error.code).toBe('SWAPLESS_IO');
    const notJson = await cli('plan', await workload('{ nope'), '--json');
    expect(JSON.parse(notJson.out).error.code).toBe('SWAPLESS_INVALID_CONFIG');
  });

  it('refuses an unknown latency model with a typed error', async () => {
    const path = await workload({ tenants: [{ name: 'a', model: 'squeezenet', rate: 5 }], durationS: 2 });
    const r = await cli('plan', path, '--latency-model', 'no-such-model', '--json');
    expect(r.status).toBeGreaterThan(0);
    expect(JSON.parse(r.out).error.code).toMatch(/^SWAPLESS_/);
  });
});
