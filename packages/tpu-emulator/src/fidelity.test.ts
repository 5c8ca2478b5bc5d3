import { InvalidArgumentError } from '@swapless/core';
import { buildZooModel } from '@swapless/zoo';
import { describe, expect, it } from 'vitest';
import { FIDELITY_TARGETS, fidelityReport } from './fidelity.js';

// A deterministic model computation (no wall clock): asserting the calibration here is meaningful.
const report = fidelityReport({ buildModel: buildZooModel });

describe('fidelityReport', () => {
  it('has one row per published figure, in a stable JSON shape', () => {
    expect(report.rows).toHaveLength(FIDELITY_TARGETS.length);
    expect(report.reportVersion).toBe(1);
    expect(report.source).toBe('emulated');
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    expect(new Set(report.rows.map((r) => r.id)).size).toBe(report.rows.length);
    expect(report.rows.map((r) => r.profile)).toEqual(expect.arrayContaining(['usb3', 'devboard', 'usb2']));
  });

  it.each(report.rows.filter((r) => r.acceptance).map((r) => [r.id, r] as const))(
    '%s is within ±15 %% of the published figure',
    (_id, row) => {
      expect(Math.abs(row.errorPct)).toBeLessThanOrEqual(15);
      expect(row.withinTolerance).toBe(true);
    },
  );

  it('passes overall and covers every acceptance figure of the brief', () => {
    expect(report.pass).toBe(true);
    const ids = report.rows.filter((r) => r.acceptance).map((r) => r.id);
    for (const m of [
      'mobilenet_v1',
      'mobilenet_v2',
      'resnet50_v1',
      'inception_v4',
      'efficientnet_edgetpu_s',
    ]) {
      expect(ids).toContain(`latency/${m}/usb3`);
      expect(ids).toContain(`latency/${m}/devboard`);
    }
    expect(ids).toContain('alternation/mobilenet_v1+mobilenet_v2/usb3');
    expect(ids).toContain('alternation/mobilenet_v1+mobilenet_v2/devboard');
    expect(ids).toContain('co-compiled/mobilenet_v1+mobilenet_v2/usb3');
  });

  it('is reproducible', () => {
    const again = fidelityReport({ buildModel: buildZooModel });
    expect(again).toEqual(report);
  });

  it('can evaluate a what-if profile, and the figures move with it', () => {
    const slow = fidelityReport({
      buildModel: buildZooModel,
      profiles: { usb3: { name: 'usb3', extends: 'usb3', linkMBps: 200 } as never },
    });
    const row = (r: typeof report, id: string) => r.rows.find((x) => x.id === id)!;
    expect(row(slow, 'latency/resnet50_v1/usb3').emulatedMs).toBeGreaterThan(
      row(report, 'latency/resnet50_v1/usb3').emulatedMs * 1.5,
    );
    expect(slow.pass).toBe(false);
  });

  it('requires the model builder', () => {
    expect(() => fidelityReport({} as never)).toThrow(InvalidArgumentError);
  });
});
