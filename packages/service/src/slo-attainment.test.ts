import { ErrorCodes, isSwapLessError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { SloAttainment, sloPercentileOf } from './slo-attainment.js';

describe('live SLO attainment', () => {
  it('counts the share within sloMs per window and since the start, against the percentile', () => {
    const a = new SloAttainment();
    expect(a.status('cam', 40, 'p95')).toEqual({
      percentile: 'p95',
      attainment: null,
      completed: 0,
      met: null,
    });
    expect(a.record('cam', 40, [10, 20, 39.9, 40, 41])).toBe(0.8);
    expect(a.record('cam', 40, [])).toBeNull();
    expect(a.status('cam', 40, 'p95')).toMatchObject({ attainment: 0.8, completed: 5, met: false });
    // 95 more within: 99 of 100 within, 99 % ≥ 95 % but < 99 %.
    a.record(
      'cam',
      40,
      Array.from({ length: 95 }, () => 12),
    );
    expect(a.status('cam', 40, 'p95')).toMatchObject({ attainment: 0.99, completed: 100, met: true });
    expect(a.status('cam', 40, 'p99')!.met).toBe(true);
    a.record('cam', 40, [50]);
    expect(a.status('cam', 40, 'p99')!.met).toBe(false);
    // Without an SLO: nothing counted, no status.
    expect(a.record('mic', null, [1, 2])).toBeNull();
    expect(a.status('mic', null, null)).toBeNull();
    a.forget('cam');
    expect(a.status('cam', 40, 'p99')!.completed).toBe(0);
  });

  it('checks a percentile: p95/p99, default p99 with sloMs, refused without sloMs or otherwise', () => {
    expect(sloPercentileOf(40, undefined, 'cam')).toBe('p99');
    expect(sloPercentileOf(40, 'p95', 'cam')).toBe('p95');
    expect(sloPercentileOf(null, undefined, 'cam')).toBeNull();
    for (const [slo, p] of [
      [40, 'p90'],
      [null, 'p95'],
    ] as const) {
      let caught: unknown;
      try {
        sloPercentileOf(slo, p, 'cam');
      } catch (e) {
        caught = e;
      }
      expect(isSwapLessError(caught, ErrorCodes.INVALID_ARGUMENT)).toBe(true);
      expect((caught as Error).message).toMatch(/cam/);
    }
  });
});
