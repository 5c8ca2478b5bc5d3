// Variant parts are prepared once (parsed and, for uint8 compute, rewritten to int8) and every worker receives the
// prepared part: a uint8 model served at any cut gives what the whole model gives.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { seededInputs } from '@swapless/edgetpu';
import { readModel, splitModel, writeModel } from '@swapless/tflite';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from './index.js';
import { preparedPart } from './parts.js';
import { reference } from './test-support.js';

const V1 = new Uint8Array(
  readFileSync(
    fileURLToPath(
      new URL('../../../fixtures/models/coral/mobilenet_v1_0.25_128_quant.tflite', import.meta.url),
    ),
  ),
);
const N = 31;

let rt: Runtime | null = null;
afterEach(async () => {
  await rt?.close();
  rt = null;
});

describe('preparedPart', () => {
  it('prepares a part once, by the identity of its bytes, as trusted bytes with its int8 rewrite', () => {
    const tail = writeModel(splitModel(readModel(V1), 10).tail!);
    const p = preparedPart(tail);
    expect(preparedPart(tail)).toBe(p);
    expect(p).toMatchObject({ verified: false, uint8Compute: true, int8: { summary: { opsRewritten: 19 } } });
    expect(preparedPart(tail.slice())).not.toBe(p);
  });
});

describe("a uint8 model (Coral's MobileNet v1) in the runtime", () => {
  it('gives the whole model’s outputs at every cut tried, mg1 and mgc, heads and tails as their int8 rewrite', async () => {
    rt = await createRuntime({ cores: 2, emulator: { timeScale: 0 } });
    await rt.addTenant({ name: 'v1', model: V1, choice: { k: 0, cores: 1 } });
    const info = {
      name: 'input',
      type: 'UINT8',
      shape: [1, 128, 128, 3],
      byteSize: 128 * 128 * 3,
      arrayType: 'Uint8Array',
      quantization: null,
    } as const;
    const x = seededInputs([info], 1)[0]!;
    const want = reference(V1, [x]);
    for (const k of [0, 10, 20, N]) {
      for (const mode of ['mg1', 'mgc'] as const) {
        await rt.reconfigure({ tenants: [{ name: 'v1', k, cores: k === N ? 0 : 2, mode }] });
        const { outputs } = await rt.submit('v1', [x]);
        expect(outputs, `k=${k} ${mode}`).toEqual(want);
      }
    }
  });
});
