import { describe, expect, it } from 'vitest';
import { EMULATION_WINDOW_MS, EmulationMonitor } from './emulation-monitor.js';

const counters = (calls: number, lagging: number, computeMs: number, lagMs: number) => ({
  workers: 1,
  queued: 0,
  calls,
  lagging,
  computeMs,
  lagMs,
});

describe('EmulationMonitor', () => {
  it('is null without emulation, and empty before any head call', () => {
    const m = new EmulationMonitor();
    expect(m.status(null)).toBeNull();
    expect(m.status(counters(0, 0, 0, 0))).toEqual({
      lagging: false,
      laggingFraction: null,
      meanLagMs: null,
      meanComputeMs: null,
      message: null,
    });
  });

  it('reports the window since the oldest snapshot kept: lagging above 10 % of calls, with a message', () => {
    const m = new EmulationMonitor();
    m.record(counters(100, 90, 900, 450), 0);
    // 50 calls later, 4 of them lagging (8 %): not lagging, whatever happened before the first snapshot.
    m.record(counters(150, 94, 1000, 460), 1_000);
    const quiet = m.status(counters(150, 94, 1000, 460))!;
    expect(quiet.laggingFraction).toBeCloseTo(4 / 50, 12);
    expect(quiet.lagging).toBe(false);
    // Old history leaves the window once a newer snapshot is at least a window old.
    m.record(counters(150, 94, 1000, 460), 1_000 + EMULATION_WINDOW_MS);
    m.record(counters(200, 98, 1100, 470), 1_000 + EMULATION_WINDOW_MS + 500);
    const s = m.status(counters(200, 98, 1100, 470))!;
    expect(s.laggingFraction).toBeCloseTo(4 / 50, 12);
    expect(s.lagging).toBe(false);
    expect(s.meanComputeMs).toBeCloseTo(100 / 50, 12);
    expect(s.meanLagMs).toBeCloseTo(10 / 50, 12);
    expect(s.message).toBeNull();
    // 6 of the next 10 lag: 10 of 60 (16.7 %) in the window.
    const busy = m.status(counters(210, 104, 1180, 530))!;
    expect(busy.laggingFraction).toBeCloseTo(10 / 60, 12);
    expect(busy.lagging).toBe(true);
    expect(busy.message).toMatch(/17 % of recent calls waited 1\.17 ms on average/);
  });
});
