import { buildTestNet } from '@swapless/int8-builder';
import { analyzeModel, type CutPoint, cutPoints, readModel, writeModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { selectCuts } from './cuts.js';

describe('selectCuts and unusable cuts', () => {
  it('never picks a cut the model cannot be split at, for auto and all', () => {
    const model = readModel(writeModel(buildTestNet(0)));
    const analysis = analyzeModel(model);
    const cuts: CutPoint[] = cutPoints(model).map((c) =>
      c.k === 1 || c.k === analysis.edgetpuPrefix.length ? { ...c, usable: false, reason: 'test' } : c,
    );
    const all = selectCuts('all', cuts, analysis, 12);
    expect(all).toHaveLength(cuts.length - 2);
    expect(all).not.toContain(1);
    const auto = selectCuts('auto', cuts, analysis, 12);
    expect(auto).toContain(0);
    expect(auto).not.toContain(1);
    expect(auto).not.toContain(analysis.edgetpuPrefix.length);
  });
});
