import { describe, expect, it } from 'vitest';
import { fastSearch } from './fast.js';
import type { PlannedTenant } from './setup.js';
import { rand, syntheticCatalog } from './synthetic.test-util.js';

describe('fastSearch near saturation', () => {
  it('is never unstable where branch and bound finds a stable configuration (the exact search rescues descent)', () => {
    let rescued = 0;
    let checked = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const r = rand(seed);
      const tenants: PlannedTenant[] = Array.from({ length: 4 }, (_, i) => ({
        name: `t${i}`,
        rate: 5 + 60 * r(),
        catalog: syntheticCatalog(`t${i}`, {
          cuts: 12,
          seed: seed * 10 + i,
          tpuMs: 2 + 10 * r(),
          cpuMs: 20 + 80 * r(),
          reloadMs: 1 + 8 * r(),
        }),
      }));
      const cores = 2 + Math.floor(3 * r());
      const exact = fastSearch(tenants, cores, { exactLimit: Number.POSITIVE_INFINITY });
      if (!Number.isFinite(exact.meanResponseMs)) continue;
      checked++;
      const descent = fastSearch(tenants, cores, { exactLimit: 0, rescueLimit: 0 });
      const searched = fastSearch(tenants, cores, { exactLimit: 0 });
      expect(searched.meanResponseMs).toBeLessThan(Number.POSITIVE_INFINITY);
      if (!Number.isFinite(descent.meanResponseMs)) {
        rescued++;
        expect(searched.method).toBe('branch-and-bound');
        expect(searched.meanResponseMs).toBeCloseTo(exact.meanResponseMs, 9);
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(rescued).toBeGreaterThan(0);
  });
});
