// Model classes at registration: a float model is a CPU-only tenant, a custom op nothing here runs is refused
// naming the tenant, a compiled model is refused under emulation and served whole on a real Edge TPU (the mock
// libedgetpu of native/tflite-addon/test/mock-edgetpu claims the edgetpu-custom-op and fills its outputs).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { TensorArray } from '@swapless/contracts';
import { ErrorCodes, type ProgressEvent } from '@swapless/core';
import { createInterpreter, type InterpreterOptions } from '@swapless/edgetpu';
import { buildTestNet } from '@swapless/int8-builder';
import { SeededRandom, writeModel } from '@swapless/tflite';
import { describe, expect, inject, it } from 'vitest';
import { serviceFactory, usePrivateCache } from './test-support.js';

const mock = inject('mockEdgeTpuLibrary');
const require = createRequire(import.meta.url);
const read = (path: string) => new Uint8Array(readFileSync(path));
const FACE = read(require.resolve('@mediapipe/face_detection/face_detection_short_range.tflite'));
const SELFIE = read(require.resolve('@mediapipe/selfie_segmentation/selfie_segmentation.tflite'));
const COMPILED = read(
  fileURLToPath(
    new URL('../../../fixtures/models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite', import.meta.url),
  ),
);
const INT8 = writeModel(buildTestNet(0));

/** The model run alone on one interpreter: what the service must answer. */
function alone(model: Uint8Array, x: TensorArray, options: InterpreterOptions = {}): TensorArray[] {
  const it = createInterpreter(model, { threads: 1, ...options });
  it.setInput(0, x);
  it.invoke();
  const out = it.outputs.map((_, i) => it.getOutput(i));
  it.dispose();
  return out;
}

function faceInput(seed: number): Float32Array {
  const x = new Float32Array(128 * 128 * 3);
  const r = new SeededRandom(seed);
  for (let i = 0; i < x.length; i++) x[i] = r.uniform(-1, 1);
  return x;
}

usePrivateCache();
const service = serviceFactory();

describe('a float model is a CPU-only tenant', () => {
  it('is planned beside a partitioned tenant (k = 0, cores chosen) and answers what the model alone answers', async () => {
    const s = await service();
    await s.addTenant({ name: 'cls', model: INT8, source: 'test:int8', rate: 20 });
    const face = await s.addTenant({ name: 'face', model: FACE, source: 'test:face', rate: 20 });
    expect(face).toMatchObject({
      ops: 90,
      k: 0,
      modelClass: { kind: 'cpu-only', reason: 'float model: nothing maps to the Edge TPU' },
      timing: 'measured',
      tpu: null,
    });
    expect(face.cores).toBeGreaterThanOrEqual(1);
    expect(s.tenant('cls')!.modelClass).toEqual({ kind: 'partitioned', reason: null });
    for (const seed of [1, 2, 3]) {
      const x = faceInput(seed);
      const { outputs, trace } = await s.infer('face', [x]);
      expect(outputs).toEqual(alone(FACE, x));
      expect(trace).toMatchObject({ k: 0, tpu: null });
    }
    // Every plan the controller makes keeps it on the CPU.
    for (const d of s.history()) expect(d.choices.find((c) => c.name === 'face')?.k ?? 0).toBe(0);
    expect(s.device().tenants.find((t) => t.name === 'face')).toMatchObject({ k: 0, token: '' });
  });
});

describe('refused at registration, naming the tenant, before anything is profiled', () => {
  it('a custom op nothing here runs', async () => {
    const events: ProgressEvent[] = [];
    const s = await service({ onProgress: (e) => events.push(e) });
    await expect(s.addTenant({ name: 'seg', model: SELFIE, source: 'test:seg' })).rejects.toMatchObject({
      code: ErrorCodes.UNSUPPORTED_MODEL,
      message: 'tenant "seg": cannot run here: custom op Convolution2DTransposeBias',
    });
    expect(events).toEqual([]);
    expect(s.tenantNames()).toEqual([]);
    expect(s.history()).toEqual([]);
  });

  it('a compiled model under emulation: give the uncompiled quantized model', async () => {
    const events: ProgressEvent[] = [];
    const s = await service({ onProgress: (e) => events.push(e) });
    await expect(
      s.addTenant({ name: 'cls', model: COMPILED, source: 'test:compiled' }),
    ).rejects.toMatchObject({
      code: ErrorCodes.UNSUPPORTED_MODEL,
      message: expect.stringMatching(
        /^tenant "cls": compiled for the Edge TPU by edgetpu_compiler .*the Edge TPU here is emulated: give the uncompiled quantized model instead \(the \.tflite that was passed to edgetpu_compiler\)$/,
      ),
    });
    expect(events).toEqual([]);
    expect(s.tenantNames()).toEqual([]);
  });
});

describe('a compiled model on a real Edge TPU (mock delegate)', () => {
  it('is served whole, fixed at k = n with no CPU stage, beside a CPU-only tenant', async () => {
    delete process.env.MOCK_EDGETPU_DEVICES;
    const s = await service({
      policy: 'swapless',
      device: { edgetpu: { library: mock, compileHead: (head) => head } },
    });
    const cls = await s.addTenant({ name: 'cls', model: COMPILED, source: 'test:compiled', rate: 30 });
    expect(cls).toMatchObject({
      ops: 1,
      k: 1,
      cores: 0,
      timing: 'measured',
      tpu: null,
      modelClass: { kind: 'compiled', reason: expect.stringMatching(/^compiled for the Edge TPU/) },
    });
    await s.addTenant({ name: 'face', model: FACE, source: 'test:face', rate: 30 });
    expect(s.runtime.choice('cls')).toEqual({ k: 1, cores: 0, mode: 'mg1' });
    expect(s.runtime.choice('face').k).toBe(0);
    const x = new Uint8Array(128 * 128 * 3);
    new SeededRandom(4).fillUniformInt8(new Int8Array(x.buffer));
    const want = alone(COMPILED, x, { delegate: 'edgetpu', edgetpu: { library: mock } });
    const { outputs, trace } = await s.infer('cls', [x]);
    expect(outputs).toEqual(want);
    expect(trace).toMatchObject({ k: 1, cpu: null, tpu: { backend: 'edgetpu' } });
    expect(s.device().tenants.find((t) => t.name === 'cls')!.token).toMatch(/^compiled:/);
    expect(s.tenant('cls')!.predictedMs).not.toBeNull();
  });
});
