// The co-compiled head sets and the Edge TPU queue discipline in force (the `swapless+` policy): one info series
// per tenant in a set, and the switch-aware discipline's budget (0 under FIFO).
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createMetrics, type MetricsGauges } from './index.js';
import { find, one, parseExposition } from './test-support.js';

const P = 'swapless_';

const tenant = (name: string, set?: string) => ({
  name,
  k: 3,
  cores: 1,
  inFlight: 0,
  ratePerS: 1,
  predictedMs: null,
  ...(set !== undefined ? { set } : {}),
});

describe('metrics of the co-compiled sets and the queue discipline', () => {
  it('exposes each member of a set with its set, and the reorder budget, following what is in force', async () => {
    let gauges: MetricsGauges = {
      tenants: [tenant('cam', 'mic+cam'), tenant('mic', 'mic+cam'), tenant('door')],
      tpuQueued: 0,
      tpuReorderBudgetMs: 4.5,
      backend: 'emulated',
    };
    const m = createMetrics({
      source: Object.assign(new EventEmitter(), { gauges: () => gauges }),
      defaultMetrics: false,
    });
    let { samples, types } = parseExposition(await m.text());
    expect(one(samples, `${P}tenant_head_set_info`, { tenant: 'cam', set: 'mic+cam' })).toBe(1);
    expect(one(samples, `${P}tenant_head_set_info`, { tenant: 'mic', set: 'mic+cam' })).toBe(1);
    expect(find(samples, `${P}tenant_head_set_info`, { tenant: 'door' })).toEqual([]);
    expect(one(samples, `${P}tpu_reorder_budget_seconds`)).toBe(0.0045);
    expect(types.get(`${P}tpu_reorder_budget_seconds`)).toBe('gauge');
    // Sets dissolved, FIFO again: no stale set series, a budget of 0.
    gauges = { ...gauges, tenants: [tenant('cam'), tenant('mic')], tpuReorderBudgetMs: 0 };
    ({ samples } = parseExposition(await m.text()));
    expect(find(samples, `${P}tenant_head_set_info`)).toEqual([]);
    expect(one(samples, `${P}tpu_reorder_budget_seconds`)).toBe(0);
    m.close();
  });
});
