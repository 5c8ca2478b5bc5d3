// Every real model the CPU runtime here can run gives bit-identical outputs after read → write, on TFLite's
// reference kernels and, where this branch's runtime accepts the model, with XNNPACK. Needs a built
// @swapless/edgetpu with its native addon: if it is missing these tests fail, they never skip.
import { describe, expect, it } from 'vitest';
import { readModel } from './reader.js';
import { makeInputs, rawBytes, runByName } from './split.test-util.js';
import { loadRealModel, REAL_MODELS } from './testing/real-models.js';
import { writeModel } from './writer.js';

describe('rewritten real models run with identical outputs', () => {
  for (const real of REAL_MODELS.filter((r) => r.runs)) {
    for (const xnnpack of real.xnnpack ? [false, true] : [false]) {
      it(`${real.name}, XNNPACK ${xnnpack ? 'on' : 'off'}`, () => {
        const bytes = loadRealModel(real);
        const rewritten = writeModel(readModel(bytes));
        for (const seed of [1, 2]) {
          const inputs = makeInputs(bytes, seed);
          const before = runByName(bytes, inputs, { xnnpack });
          const after = runByName(rewritten, inputs, { xnnpack });
          expect(after.map((o) => o.name)).toEqual(before.map((o) => o.name));
          after.forEach((o, i) => {
            expect(Buffer.from(rawBytes(o.data)).equals(Buffer.from(rawBytes(before[i]!.data))), o.name).toBe(
              true,
            );
          });
        }
      });
    }
  }
});
