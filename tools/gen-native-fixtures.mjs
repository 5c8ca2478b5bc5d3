// Regenerates native/tflite-addon/test/fixtures/tiny-add-<n>.tflite with @swapless/tflite's writer:
//   npm run build && node tools/gen-native-fixtures.mjs
// The native package's tests cannot import @swapless/tflite (that would make a dependency cycle through
// @swapless/edgetpu), so the tiny models they need are committed as files made by this script.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuiltinOperator, BuiltinOptionsType, TensorType, writeModel } from '@swapless/tflite';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'tflite-addon', 'test', 'fixtures');

/** y = x + c with x, y float32 [1, n] and the constant c = 1, 2, …, n. */
function tinyAdd(n) {
  const c = new Float32Array(n).map((_, i) => i + 1);
  const tensor = (name, buffer) => ({
    shape: [1, n],
    type: TensorType.FLOAT32,
    buffer,
    name,
    isVariable: false,
    hasRank: true,
  });
  return writeModel({
    version: 3,
    description: `swapless tiny add n=${n} (tools/gen-native-fixtures.mjs)`,
    operatorCodes: [{ builtinCode: BuiltinOperator.ADD, version: 1 }],
    buffers: [{}, { data: new Uint8Array(c.buffer) }],
    subgraphs: [
      {
        name: 'main',
        tensors: [tensor('x', 0), tensor('c', 1), tensor('y', 0)],
        inputs: [0],
        outputs: [2],
        operators: [
          {
            opcodeIndex: 0,
            inputs: [0, 1],
            outputs: [2],
            builtinOptions: { type: BuiltinOptionsType.AddOptions, name: 'AddOptions', fields: {} },
            customOptionsFormat: 0,
          },
        ],
      },
    ],
  });
}

for (const n of [2, 4, 4096]) {
  const file = join(out, `tiny-add-${n}.tflite`);
  writeFileSync(file, tinyAdd(n));
  console.log(`wrote ${file}`);
}
