/**
 * A model that is valid by every rule a verifier can check and still kills the TFLite 2.9 process that runs it:
 * `x / (x − x)` on int32, a division by a zero that only exists at run time. The divisor is not a constant, so no
 * schema-level check can see it; TFLite's integer DIV does not test for zero, and the CPU raises SIGFPE during
 * `invoke()`. It is what isolation (vetting in a child process) is for, and what tests of that isolation load.
 */
import type { TfliteModel } from '../model.js';
import { TensorType } from '../model.js';
import { BuiltinOperator } from '../ops.js';
import { BuiltinOptionsType } from '../options.js';

/** Builds the model (one int32 input of `length` elements, one output); write it with `writeModel`. */
export function divisionByZeroModel(length = 4): TfliteModel {
  const tensor = (name: string) => ({
    shape: [length],
    type: TensorType.INT32,
    buffer: 0,
    name,
    isVariable: false,
    hasRank: true,
  });
  const none = { fusedActivationFunction: 0 };
  return {
    version: 3,
    operatorCodes: [
      { builtinCode: BuiltinOperator.SUB, version: 1 },
      { builtinCode: BuiltinOperator.DIV, version: 1 },
    ],
    subgraphs: [
      {
        tensors: [tensor('x'), tensor('x_minus_x'), tensor('y')],
        inputs: [0],
        outputs: [2],
        operators: [
          {
            opcodeIndex: 0,
            inputs: [0, 0],
            outputs: [1],
            builtinOptions: { type: BuiltinOptionsType.SubOptions, name: 'SubOptions', fields: none },
            customOptionsFormat: 0,
          },
          {
            opcodeIndex: 1,
            inputs: [0, 1],
            outputs: [2],
            builtinOptions: { type: BuiltinOptionsType.DivOptions, name: 'DivOptions', fields: none },
            customOptionsFormat: 0,
          },
        ],
      },
    ],
    buffers: [{}],
  };
}
