// run's and demo's inputs come from the one seeded generator of @swapless/edgetpu (the vetting child's too).
import { ErrorCodes } from '@swapless/core';
import { seededInputs, type TensorInfo } from '@swapless/edgetpu';
import { SeededRandom } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { inputsFor } from './inference.js';

const tensor = (type: string, arrayType: TensorInfo['arrayType'], byteSize: number): TensorInfo => ({
  name: `t_${type}`,
  type,
  shape: [byteSize],
  byteSize,
  arrayType,
  quantization: null,
});
const INFOS = [
  tensor('UINT8', 'Uint8Array', 300),
  tensor('INT8', 'Int8Array', 300),
  tensor('FLOAT32', 'Float32Array', 64),
];

describe('inputsFor', () => {
  it('gives the shared seeded inputs for a seed, or zeros', () => {
    expect(inputsFor(INFOS, new SeededRandom(4), 'the model')).toEqual(seededInputs(INFOS, 4));
    expect(inputsFor(INFOS, 'zero', 'the model')).toEqual([
      new Uint8Array(300),
      new Int8Array(300),
      new Float32Array(16),
    ]);
  });

  it('refuses a tensor no typed array carries with a typed error naming it', () => {
    expect(() => inputsFor([tensor('STRING', null, 8)], 'zero', '--verify')).toThrow(
      expect.objectContaining({
        code: ErrorCodes.UNSUPPORTED_MODEL,
        message:
          'Expected inputs of a numeric type for --verify but received input "t_STRING" of type STRING',
      }),
    );
  });
});
