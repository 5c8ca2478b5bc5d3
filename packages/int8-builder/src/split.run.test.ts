// Splits generated int8 models at every cut point and runs head + tail on the real TFLite runtime: the chained
// outputs must be bit-identical to the whole model's, with XNNPACK on and off. These moved here from
// @swapless/tflite (its split.run.test.ts keeps the real models) so the format package does not depend on its
// generator. Need a built @swapless/edgetpu with its native addon; if it is missing they fail, never skip.
import { cutPoints, readModel, type TfliteModel, writeModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { buildTestNet, GraphBuilder } from './builder.js';
import { type RunSettings, splitMismatches } from './runtime.test-util.js';

const SETTINGS: readonly RunSettings[] = [{ xnnpack: true }, { xnnpack: false }];

/** A second generated int8 model: float input (QUANTIZE), pad, mul, logistic, mean, two outputs (one early). */
function buildTwoHeadNet(seed: number): TfliteModel {
  const b = new GraphBuilder({ seed, name: 'twohead' });
  const x = b.input('image', [1, 12, 12, 4], { type: 'float32' });
  const c = b.conv2d(x, { filters: 8, kernel: 3, activation: 'relu', name: 'stem' });
  const p = b.pad(c, [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ]);
  const d = b.depthwiseConv2d(p, { kernel: 3, padding: 'valid', stride: 2, name: 'dw' });
  const gate = b.logistic(d, { name: 'gate' });
  const m = b.mul(d, gate, { name: 'gated' });
  const features = b.output(m, { name: 'features' });
  const g = b.mean(features, { name: 'gap' });
  const fc = b.fullyConnected(g, { units: 5, activation: 'relu6', name: 'fc' });
  b.output(b.softmax(fc, { name: 'scores' }), { type: 'float32', name: 'scores_f32' });
  return b.build();
}

describe('split generated int8 models at every cut point', () => {
  const models: [string, TfliteModel][] = [
    ['testnet seed 0', buildTestNet(0)],
    ['testnet seed 7', buildTestNet(7)],
    ['two-head net', buildTwoHeadNet(3)],
  ];
  for (const [name, model] of models) {
    for (const settings of SETTINGS) {
      it(`${name}: bit-exact at every cut with XNNPACK ${settings.xnnpack ? 'on' : 'off'}`, () => {
        const bytes = writeModel(model);
        const ks = cutPoints(readModel(bytes)).map((c) => c.k);
        expect(ks.length).toBeGreaterThanOrEqual(10);
        expect(splitMismatches(bytes, ks, settings)).toEqual([]);
      });
    }
  }
});
