// Every zoo model, and both parts of every cut of two of them, passes readModel's semantic verifier: the
// verifier must never refuse a model SwapLess itself generates (zero false positives).
import { cutPoints, splitModel, verifyModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { buildZooModel } from './build.js';
import { ZOO_MODEL_NAMES } from './registry.js';

describe('the semantic verifier on the zoo', () => {
  for (const name of ZOO_MODEL_NAMES) {
    it(`accepts ${name}`, () => {
      expect(() => verifyModel(buildZooModel(name))).not.toThrow();
    });
  }

  it('accepts both parts of every cut of inception_v1 (branches) and efficientnet_edgetpu_s', () => {
    for (const name of ['inception_v1', 'efficientnet_edgetpu_s'] as const) {
      const model = buildZooModel(name);
      const cuts = cutPoints(model);
      expect(cuts.length).toBeGreaterThan(10);
      for (const { k } of cuts) {
        const { head, tail } = splitModel(model, k);
        if (head !== null) verifyModel(head);
        if (tail !== null) verifyModel(tail);
      }
    }
  });
});
