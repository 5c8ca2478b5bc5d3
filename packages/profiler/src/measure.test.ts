// The profiler's default factory: parts SwapLess wrote from a verified model are trusted and prepared once for all
// their thread counts, and run exactly as createInterpreter runs them by default.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterpreter, type Interpreter, seededInputs } from '@swapless/edgetpu';
import { readModel, splitModel, writeModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { defaultInterpreterFactory } from './measure.js';

const V1 = new Uint8Array(
  readFileSync(
    fileURLToPath(
      new URL('../../../fixtures/models/coral/mobilenet_v1_0.25_128_quant.tflite', import.meta.url),
    ),
  ),
);

function outputOf(it: Interpreter): Uint8Array {
  try {
    seededInputs(it.inputs, 2).forEach((a, i) => {
      it.setInput(i, a!);
    });
    it.invoke();
    return it.getOutput(0) as Uint8Array;
  } finally {
    it.dispose();
  }
}

describe('defaultInterpreterFactory', () => {
  it('runs a uint8 part as its int8 rewrite on XNNPACK, unverified (trusted), like createInterpreter', () => {
    const part = writeModel(splitModel(readModel(V1), 12).tail!);
    const want = outputOf(createInterpreter(part));
    for (const threads of [1, 2]) {
      const it = defaultInterpreterFactory(part, threads);
      expect(it.backend).toMatchObject({
        threads,
        kernels: 'xnnpack',
        verified: false,
        int8: { opsRewritten: 17 },
      });
      expect(outputOf(it)).toEqual(want);
    }
  });
});
