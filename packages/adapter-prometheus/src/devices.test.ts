import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createMetrics, type MetricsGauges, type MetricsTrace } from './index.js';
import { find, one, parseExposition } from './test-support.js';

const P = 'swapless_';

/** A source driven by hand: events emitted by the test, gauges from `gauges`. */
function source(gauges: () => MetricsGauges) {
  return Object.assign(new EventEmitter(), { gauges });
}

const trace = (tenant: string, device: string | undefined): MetricsTrace => ({
  tenant,
  latencyMs: 4,
  tpu: {
    backend: 'emulated',
    ...(device !== undefined ? { device } : {}),
    enqueuedMs: 0,
    startMs: 1,
    endMs: 3,
  },
  cpu: { enqueuedMs: 3, startMs: 3, endMs: 4 },
});

describe('metrics of several Edge TPUs', () => {
  it('labels Edge TPU stages with their device, follows a move, and exposes placement, queues and busy time per device', async () => {
    let placed = 'tpu-a';
    const src = source(() => ({
      tenants: [{ name: 'cam', k: 3, cores: 1, inFlight: 0, ratePerS: 1, predictedMs: null, device: placed }],
      tpuQueued: 2,
      backend: 'emulated',
      devices: [
        { id: 'tpu-a', queued: 2, busyMs: 1500 },
        { id: 'tpu-b', queued: 0, busyMs: 250 },
      ],
    }));
    const m = createMetrics({ source: src, defaultMetrics: false });
    src.emit('request', trace('cam', 'tpu-a'));
    src.emit('request', trace('cam', 'tpu-a'));
    placed = 'tpu-b';
    src.emit('request', trace('cam', 'tpu-b'));
    src.emit('request', trace('cam', undefined));
    const { samples, types } = parseExposition(await m.text());
    const tpu = (labels: Record<string, string>) =>
      one(samples, `${P}stage_duration_seconds_count`, {
        tenant: 'cam',
        stage: 'tpu',
        timing: 'emulated',
        ...labels,
      });
    expect(tpu({ device: 'tpu-a' })).toBe(2);
    expect(tpu({ device: 'tpu-b' })).toBe(1);
    // A trace without a device (an older runtime) writes no device label.
    expect(tpu({})).toBe(1);
    expect(
      one(samples, `${P}stage_duration_seconds_count`, { tenant: 'cam', stage: 'cpu', timing: 'measured' }),
    ).toBe(4);
    expect(
      find(samples, `${P}stage_duration_seconds_count`, { stage: 'cpu' }).every(
        (s) => !('device' in s.labels),
      ),
    ).toBe(true);
    expect(one(samples, `${P}tenant_device_info`, { tenant: 'cam', device: 'tpu-b' })).toBe(1);
    expect(find(samples, `${P}tenant_device_info`, { device: 'tpu-a' })).toEqual([]);
    expect(one(samples, `${P}device_queue_depth`, { device: 'tpu-a' })).toBe(2);
    expect(one(samples, `${P}device_busy_seconds_total`, { device: 'tpu-a' })).toBe(1.5);
    expect(one(samples, `${P}device_busy_seconds_total`, { device: 'tpu-b' })).toBe(0.25);
    expect(types.get(`${P}device_busy_seconds_total`)).toBe('counter');
    m.close();
  });
});
