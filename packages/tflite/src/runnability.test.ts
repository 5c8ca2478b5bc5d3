import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { linearInt8 } from './fixtures.test-util.js';
import { readModel } from './reader.js';
import { runnability } from './runnability.js';

const require = createRequire(import.meta.url);

describe('runnability', () => {
  it('finds nothing to object to in a plain int8 model', () => {
    const r = runnability(linearInt8());
    expect(r).toMatchObject({ cpuRunnable: true, compiled: false, unresolvedCustomOps: [], edgetpuOps: [] });
    expect(r.reason).toBeUndefined();
  });

  it('names a custom op the CPU runtime cannot resolve, and accepts one it can', () => {
    const model = linearInt8();
    const code = model.operatorCodes[0]!;
    code.builtinCode = 32;
    code.customCode = 'Convolution2DTransposeBias';
    expect(runnability(model).reason).toBe('cannot run here: custom op Convolution2DTransposeBias');
    code.customCode = 'TFLite_Detection_PostProcess';
    expect(runnability(model).cpuRunnable).toBe(true);
    code.customCode = 'edgetpu-custom-op';
    const compiled = runnability(model);
    expect(compiled.compiled).toBe(true);
    expect(compiled.cpuRunnable).toBe(false);
    expect(compiled.reason).toMatch(/compiled for the Edge TPU/);
  });

  it("recognises MediaPipe's float face detector as runnable", () => {
    const dir = dirname(require.resolve('@mediapipe/face_detection/package.json'));
    const bytes = new Uint8Array(readFileSync(join(dir, 'face_detection_short_range.tflite')));
    expect(runnability(readModel(bytes)).cpuRunnable).toBe(true);
  });
});
