import { ErrorCodes, InvalidCutError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { boundaryAt, type CutPoint, cutPoints, rankCuts } from './cuts.js';
import { branches, dequantizeFeedingConv, earlyOutput, linearInt8, residual } from './fixtures.test-util.js';
import { TensorType, type TfliteModel } from './model.js';
import { readModel } from './reader.js';
import { splitModel } from './split.js';
import { loadRealModel, REAL_MODELS, realModel } from './testing/real-models.js';

function names(model: TfliteModel, cut: CutPoint): string[] {
  return cut.boundary.map((b) => model.subgraphs[0]!.tensors[b.tensor]!.name);
}

describe('cutPoints', () => {
  it('gives one boundary tensor per cut of a linear model, with prefix/suffix costs', () => {
    const model = linearInt8();
    const cuts = cutPoints(model);
    expect(cuts.map((c) => c.k)).toEqual([0, 1, 2, 3, 4]);
    expect(cuts.map((c) => names(model, c))).toEqual([['input'], ['conv1'], ['relu1'], ['flat'], ['logits']]);
    expect(cuts.map((c) => c.bytes)).toEqual([192, 256, 256, 256, 10]);
    expect(cuts.map((c) => c.transferBytes)).toEqual([0, 256, 256, 256, 10]);
    expect(cuts.map((c) => c.prefixMacs)).toEqual([0, 6912, 7168, 7168, 9728]);
    expect(cuts.map((c) => c.suffixMacs)).toEqual([9728, 2816, 2560, 2560, 0]);
    expect(cuts.map((c) => c.prefixWeightBytes)).toEqual([0, 124, 124, 132, 2732]);
    expect(cuts.map((c) => c.suffixWeightBytes)).toEqual([2732, 2608, 2608, 2600, 0]);
    expect(cuts.every((c) => c.edgetpuMappable)).toBe(true);
    expect(cuts[4]!.boundary[0]).toMatchObject({ source: 'head', toTail: false, modelOutput: 0 });
  });

  it('keeps both tensors of a residual block live inside it', () => {
    const model = residual();
    const cuts = cutPoints(model);
    expect(cuts.map((c) => names(model, c))).toEqual([['input'], ['x'], ['x', 'y'], ['z']]);
    expect(cuts[2]!.bytes).toBe(2 * 4 * 4 * 8 * 4);
    expect(cuts.every((c) => !c.edgetpuMappable || c.k === 0)).toBe(true);
  });

  it('carries a model input consumed after the cut as a boundary tensor of source "input"', () => {
    const model = branches();
    const cuts = cutPoints(model);
    expect(cuts.map((c) => names(model, c))).toEqual([['input'], ['input', 'p'], ['p', 'q'], ['out']]);
    expect(cuts[1]!.boundary.map((b) => [b.source, b.toTail])).toEqual([
      ['input', true],
      ['head', true],
    ]);
    expect(cuts[1]!.bytes).toBe((32 + 48) * 4);
    expect(cuts[1]!.transferBytes).toBe(48 * 4);
  });

  it('keeps model outputs produced before the cut in the boundary even when nothing consumes them later', () => {
    const model = earlyOutput();
    const cuts = cutPoints(model);
    expect(cuts.map((c) => names(model, c))).toEqual([
      ['input'],
      ['input', 'early'],
      ['input', 'early', 'late'],
      ['early', 'late', 'side'],
    ]);
    const early = cuts[1]!.boundary[1]!;
    expect(early).toMatchObject({ name: 'early', source: 'head', toTail: true, modelOutput: 1 });
    expect(cuts[2]!.boundary[1]).toMatchObject({ name: 'early', toTail: false, modelOutput: 1 });
  });

  it('never puts constant-derived tensors in a boundary and counts shared weights on both sides', () => {
    const model = dequantizeFeedingConv();
    const cuts = cutPoints(model);
    expect(cuts.map((c) => names(model, c))).toEqual([['input'], ['relu'], ['c'], ['out']]);
    expect(cuts.map((c) => c.prefixWeightBytes)).toEqual([0, 0, 174, 186]);
    expect(cuts.map((c) => c.suffixWeightBytes)).toEqual([186, 186, 174, 0]);
  });

  it('matches boundaryAt for every k', () => {
    for (const model of [linearInt8(), residual(), branches(), earlyOutput(), dequantizeFeedingConv()]) {
      for (const cut of cutPoints(model)) expect(boundaryAt(model, cut.k)).toEqual(cut.boundary);
    }
  });

  it('refuses cut points that do not exist', () => {
    const model = residual();
    for (const k of [-1, 4, 1.5, Number.NaN]) {
      expect(() => boundaryAt(model, k)).toThrow(InvalidCutError);
    }
    try {
      boundaryAt(model, 7);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidCutError);
      expect((error as InvalidCutError).code).toBe(ErrorCodes.INVALID_CUT);
      expect((error as Error).message).toBe(
        'Expected an integer cut point between 0 and 3 for a model of 3 ops but received 7',
      );
    }
  });
});

describe('usable and unusable cuts', () => {
  it('marks every cut of every real model usable, except where a model cannot be split at all', () => {
    for (const real of REAL_MODELS) {
      const cuts = cutPoints(readModel(loadRealModel(real)));
      expect(
        cuts.filter((c) => !c.usable).map((c) => c.k),
        real.name,
      ).toEqual([]);
      expect(cuts.every((c) => c.reason === undefined)).toBe(true);
    }
  });

  it('marks the cuts a variable tensor would cross, with the reason, and keeps the ends usable', () => {
    // The LSTM's state tensors are used by its one LSTM op; make a later op read one too, so state straddles.
    const model = readModel(loadRealModel(realModel('coral/keras_lstm_mnist_ptq')));
    const g = model.subgraphs[0]!;
    const state = g.tensors.findIndex((t) => t.isVariable);
    expect(state).toBe(17);
    g.operators[4]!.inputs.push(state);
    const cuts = cutPoints(model);
    expect(cuts.map((c) => c.usable)).toEqual([true, true, false, false, false, true, true]);
    expect(cuts[2]!.reason).toBe(
      'variable tensor 17 "tfl.pseudo_qconst" keeps state between runs and is used by ops on both sides of the ' +
        'cut (op 1 and op 4): the two parts would each keep their own copy of the state',
    );
    expect(
      rankCuts(cuts, { includeEnds: true })
        .map((c) => c.k)
        .sort(),
    ).toEqual([0, 1, 5, 6]);
    // The splitter applies the same rule and lists the same usable cuts.
    expect(() => splitModel(model, 2)).toThrow(
      expect.objectContaining({
        details: expect.objectContaining({ reason: cuts[2]!.reason, usable: [0, 1, 5, 6] }),
      }),
    );
  });

  it('marks a cut where a tensor that cannot travel between models would cross', () => {
    const model = linearInt8();
    const flat = model.subgraphs[0]!.tensors.findIndex((t) => t.name === 'flat');
    model.subgraphs[0]!.tensors[flat]!.type = TensorType.RESOURCE;
    const cuts = cutPoints(model);
    expect(cuts.map((c) => c.usable)).toEqual([true, true, true, false, true]);
    expect(cuts[3]!.reason).toBe(
      `tensor ${flat} "flat" of type RESOURCE would cross the cut, and such a tensor cannot be passed from one model to another`,
    );
  });

  it('marks every inner cut of a model that cannot be split at all, and keeps the ends usable', () => {
    const model = residual();
    const twoGraphs: TfliteModel = { ...model, subgraphs: [model.subgraphs[0]!, model.subgraphs[0]!] };
    const cuts = cutPoints(twoGraphs);
    const n = cuts.length - 1;
    expect(n).toBeGreaterThan(1);
    expect(cuts.map((c) => c.usable)).toEqual(cuts.map((c) => c.k === 0 || c.k === n));
    expect(cuts.slice(1, -1).every((c) => /has 2 subgraphs/.test(c.reason!))).toBe(true);
    expect(rankCuts(cuts).map((c) => c.k)).toEqual([]);
    expect(rankCuts(cuts, { includeEnds: true }).map((c) => c.k)).toEqual([0, n]);
    const constantOut = residual();
    constantOut.subgraphs[0]!.outputs = [1]; // the constant weights "wa"
    expect(cutPoints(constantOut)[1]!.reason).toBe(
      'model output 0 (tensor 1 "wa") is a constant, computed by no op, so no part could produce it',
    );
  });
});

describe('rankCuts', () => {
  it('orders cuts by tensor count, then transferred bytes, then bytes, then k', () => {
    const model = earlyOutput();
    const ranked = rankCuts(cutPoints(model));
    expect(ranked.map((c) => c.k)).toEqual([1, 2]);
    expect(rankCuts(cutPoints(residual())).map((c) => c.k)).toEqual([1, 2]);
    expect(rankCuts(cutPoints(residual()), { includeEnds: true }).map((c) => c.k)).toEqual([0, 1, 3, 2]);
    expect(
      rankCuts(cutPoints(residual()), { includeEnds: true, limit: 2, maxTensors: 1 }).map((c) => c.k),
    ).toEqual([0, 1]);
    expect(
      rankCuts(cutPoints(residual()), { mappableOnly: true, includeEnds: true }).map((c) => c.k),
    ).toEqual([0]);
  });
});
