import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, useTempCache } from './test-util.js';

const cacheDir = useTempCache('bench');
// Few repetitions and cuts: these tests check the command, not the profiles.
const QUICK = ['--repetitions', '3', '--max-cuts', '6'];

async function workload(value: unknown): Promise<string> {
  const path = join(cacheDir(), `w-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, JSON.stringify(value));
  return path;
}

const twoTenants = {
  device: 'usb3',
  cpu: { cores: 2 },
  tenants: [
    { name: 'a', model: 'squeezenet', rate: 30 },
    { name: 'b', model: 'mobilenet_v1', rate: 30 },
  ],
  phases: [{ atS: 10, rates: { a: 60 } }],
  durationS: 20,
};

describe('swapless bench', () => {
  it('simulates every policy on the same arrivals and writes the report and plots', async () => {
    const out = join(cacheDir(), 'report');
    const r = await cli('bench', await workload(twoTenants), '--out', out, '--json', ...QUICK);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.mode).toBe('sim');
    expect(j.policies.map((p: { policy: string }) => p.policy)).toEqual([
      'swapless',
      'swapless+',
      'default',
      'cpu',
      'fixed',
      'oracle',
    ]);
    // Same arrivals for every policy: the same number of requests is offered to each (nothing is rejected here).
    const offered = j.policies.map((p: { tenants: { throughputPerS: number }[] }) =>
      p.tenants.map((t) => t.throughputPerS.toFixed(3)).join(),
    );
    expect(new Set(offered).size).toBe(1);
    const byName = Object.fromEntries(j.policies.map((p: { policy: string }) => [p.policy, p]));
    expect(byName.default.reductionVsDefaultPct).toBeNull();
    expect(byName.oracle.ratioToOracle).toBe(1);
    // Two small models taking turns: swapless+ compiles their heads together and stops the reloads.
    expect(byName['swapless+'].decisions[0].sets).toEqual([expect.arrayContaining(['a', 'b'])]);
    expect(byName['swapless+'].meanResponseMs).toBeLessThan(byName.swapless.meanResponseMs);
    // Never worse than the default compiler. Not "strictly better": the profiles are measured here with 3
    // repetitions, and on a loaded host they can make whole-on-the-TPU the best plan, i.e. the default's (CI once
    // failed a "> 0" here).
    expect(byName.swapless.reductionVsDefaultPct).toBeGreaterThanOrEqual(0);
    for (const f of ['report.md', 'latency-over-time.svg', 'cdf.svg', 'result.json']) {
      expect((await readFile(join(out, f), 'utf8')).length).toBeGreaterThan(100);
    }
    expect(await readFile(join(out, 'report.md'), 'utf8')).toMatch(/\| policy \| mean ms \|/);
  });

  it('runs a policy live on the real runtime (TPU emulated in real time)', async () => {
    const path = await workload({
      ...twoTenants,
      tenants: [{ name: 'a', model: 'squeezenet', rate: 20 }],
      phases: [],
      durationS: 2,
    });
    const r = await cli('bench', path, '--mode', 'live', '--policies', 'default,fixed', '--json', ...QUICK);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.source).toMatch(/measured/);
    // The runtime keeps a core for its main thread: plans, run and simulation use what the CPU stages get.
    const stageCores = Math.min(2, Math.max(1, availableParallelism() - 1));
    expect(j).toMatchObject({ cores: stageCores, coresRequested: 2 });
    if (stageCores < 2) expect(j.coresNote).toMatch(/main thread/);
    else expect(j.coresNote).toBeNull();
    for (const p of j.policies) {
      expect(p.tenants[0].throughputPerS).toBeGreaterThan(5);
      expect(p.rejected).toBe(0);
      // Each live run is simulated with the same cores and arrivals for comparison.
      expect(p.simulatedMeanResponseMs).toBeGreaterThan(0);
      expect(p.liveVsSimulatedPct).toBeCloseTo(100 * (p.meanResponseMs / p.simulatedMeanResponseMs - 1), 6);
    }
    for (const d of j.policies[0].decisions)
      for (const c of d.choices) expect(c.cores).toBeLessThanOrEqual(stageCores);
    const forced = await cli(
      'bench',
      path,
      '--mode',
      'sim',
      '--cores',
      '1',
      '--policies',
      'default',
      '--json',
      ...QUICK,
    );
    expect(JSON.parse(forced.out)).toMatchObject({ cores: 1, coresRequested: 2, coresNote: null });
  });

  it('places the tenants on several Edge TPUs in simulation, and prints each policy’s placement', async () => {
    const path = await workload({
      ...twoTenants,
      devices: [{ id: 'usb:0' }, { id: 'usb:1' }],
      tenants: [...twoTenants.tenants, { name: 'c', model: 'squeezenet', rate: 20 }],
      durationS: 8,
    });
    const r = await cli('bench', path, '--policies', 'swapless,default,oracle', '--json', ...QUICK);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.devices.map((d: { id: string }) => d.id)).toEqual(['usb:0', 'usb:1']);
    for (const p of j.policies) {
      const choices = p.decisions[0].choices;
      expect(choices.every((c: { device: string }) => c.device === 'usb:0' || c.device === 'usb:1')).toBe(
        true,
      );
      expect(p.devices.map((d: { id: string }) => d.id)).toEqual(['usb:0', 'usb:1']);
      expect(p.devices.flatMap((d: { tenants: string[] }) => d.tenants).sort()).toEqual(['a', 'b', 'c']);
      for (const d of p.devices) expect(d.tpuUtilization).toBeLessThan(1);
    }
    const text = await cli('bench', path, '--policies', 'swapless', ...QUICK);
    expect(text.out).toMatch(/2 × usb3 \(usb:0, usb:1\)/);
    expect(text.out).toMatch(/swapless +placement: usb:0 ρ \d\.\d\d .* · usb:1 ρ \d\.\d\d/);
    // Live runs have one device (several are benchmarked in simulation).
    const live = await cli('bench', path, '--mode', 'live', '--policies', 'default', '--json', ...QUICK);
    expect(live.status).toBe(1);
    expect(JSON.parse(live.out).error.code).toBe('SWAPLESS_INVALID_CONFIG');
  });

  it('refuses unknown policies and modes with exit 2', async () => {
    const path = await workload(twoTenants);
    expect((await cli('bench', path, '--policies', 'swapless,magic')).status).toBe(2);
    expect((await cli('bench', path, '--mode', 'hybrid')).status).toBe(2);
  });
});
