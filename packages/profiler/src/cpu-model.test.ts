// The modelled CPUs: the devboard-a53 calibration reproduces the published figures it was fit on and the held-out
// ones within ±25 %, the thread scaling is the documented Amdahl law, and bad profiles fail with a typed error.
import { InvalidConfigError } from '@swapless/core';
import { tinyModel } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import { buildZooModel, type ZooModelName } from '@swapless/zoo';
import { describe, expect, it } from 'vitest';
import { HELD_OUT_TOLERANCE, modelCpuProfile, modelledModelMs, PUBLISHED_CPU_FIGURES } from './index.js';

describe('devboard-a53 against the published quad Cortex-A53 figures', () => {
  it.each(PUBLISHED_CPU_FIGURES.map((f) => [f.model, f.role, f] as const))(
    '%s (%s)',
    (model, role, figure) => {
      const ms = modelledModelMs(buildZooModel(model as ZooModelName), figure.cpu);
      const ratio = ms / figure.ms;
      // The calibration set is fit by least squares with five parameters over five figures, so it sits closer.
      const tolerance = role === 'calibration' ? 0.15 : HELD_OUT_TOLERANCE;
      expect(
        Math.abs(ratio - 1),
        `${model}: modelled ${ms.toFixed(0)} ms, published ${figure.ms} ms`,
      ).toBeLessThan(tolerance);
    },
    60_000,
  );

  it('has a held-out set of other models than the calibration set', () => {
    const cal = new Set(PUBLISHED_CPU_FIGURES.filter((f) => f.role === 'calibration').map((f) => f.model));
    const held = PUBLISHED_CPU_FIGURES.filter((f) => f.role === 'held-out');
    expect(held.length).toBeGreaterThanOrEqual(5);
    for (const f of held) expect(cal.has(f.model)).toBe(false);
  });
});

describe('modelCpuProfile', () => {
  const model = writeModel(buildZooModel('mobilenet_v2'));

  it('reports the whole model at the calibration thread count and cuts whose parts add up', async () => {
    const p = await modelCpuProfile(model, 'devboard-a53', { name: 'mobilenet_v2' });
    expect(p.source).toBe('emulated');
    expect(p.threads).toEqual([1, 2, 3, 4]);
    expect(p.wholeModelThreads).toBe(1);
    expect(p.wholeModelMs).toBeCloseTo(p.wholeModel[0]!.ms, 9);
    expect(p.cuts[0]!.k).toBe(0);
    expect(p.cuts[0]!.suffixMs![0]).toBeCloseTo(p.wholeModelMs, 9);
    for (const c of p.cuts) {
      if (c.prefixMs === null || c.suffixMs === null) continue;
      c.prefixMs.forEach((ms, i) => {
        expect(ms + c.suffixMs![i]!).toBeCloseTo(p.wholeModel[i]!.ms, 6);
      });
    }
  });

  it('scales with threads by Amdahl with the documented fractions (less than linear, monotone)', async () => {
    const p = await modelCpuProfile(model, 'devboard-a53');
    const [t1, t2, , t4] = p.wholeModel.map((w) => w.ms);
    expect(t2!).toBeLessThan(t1!);
    expect(t4!).toBeLessThan(t2!);
    // p = 0.82 on the compute kernels: at most 1/(0.18 + 0.82/4) = 2.6× at 4 threads.
    expect(t1! / t4!).toBeGreaterThan(2);
    expect(t1! / t4!).toBeLessThan(2.6);
  });

  it('makes rpi4-a72 faster than devboard-a53 and applies a custom profile over its base', async () => {
    const a53 = await modelCpuProfile(model, 'devboard-a53');
    const a72 = await modelCpuProfile(model, 'rpi4-a72');
    expect(a72.wholeModelMs / a53.wholeModelMs).toBeCloseTo(1 / 1.8667, 3);
    const half = await modelCpuProfile(model, {
      name: 'slow-a53',
      rates: { conv1x1: 3.05e6, conv: 1.6e6, depthwise: 1.325e5, fullyConnected: 3.05e6, elementwise: 2.5e5 },
      fixedMsPerOp: 0.1,
    });
    expect(half.cpu).toBe('slow-a53');
    expect(half.wholeModelMs).toBeCloseTo(2 * a53.wholeModelMs, 6);
  });

  it('refuses host and unknown profiles with SWAPLESS_INVALID_CONFIG listing the valid ones', async () => {
    const tiny = writeModel(tinyModel());
    await expect(modelCpuProfile(tiny, 'host')).rejects.toBeInstanceOf(InvalidConfigError);
    const err = await modelCpuProfile(tiny, 'pentium' as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as InvalidConfigError).code).toBe('SWAPLESS_INVALID_CONFIG');
    expect((err as Error).message).toContain('"devboard-a53"');
    expect((err as Error).message).toContain('"rpi4-a72"');
    const bad = await modelCpuProfile(tiny, { name: 'x', rates: { conv: -1 } } as never).catch(
      (e: unknown) => e,
    );
    expect(bad).toBeInstanceOf(InvalidConfigError);
    expect((bad as InvalidConfigError).problems.join('\n')).toContain('/rates/conv');
  });
});
