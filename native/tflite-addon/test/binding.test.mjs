// The raw binding's contract: TypeError for wrong JS types, RangeError for bad values, coded Errors for
// the rest. @swapless/edgetpu maps these to SwapLess errors; its tests cover the facade.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, inject, it } from 'vitest';
import { addonPath, defaultTfLiteLibraryPath } from '../lib/index.js';
import { tinyAddModel } from './tiny-model.mjs';

/** @type {import('../lib/index.js').RawBinding} */
const binding = createRequire(import.meta.url)(addonPath);
const library = new binding.TfLiteLibrary(defaultTfLiteLibraryPath());
const face = createRequire(import.meta.url).resolve(
  '@mediapipe/face_detection/face_detection_short_range.tflite',
);

function thrown(fn) {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('raw binding', () => {
  it('loads TFLite 2.9 and shares one handle per path', () => {
    expect(library.version()).toBe('2.9.0');
    expect(new binding.TfLiteLibrary(defaultTfLiteLibraryPath()).path).toBe(library.path);
  });

  it('names the dlerror when a library cannot be loaded', () => {
    const error = thrown(() => new binding.TfLiteLibrary('/nonexistent/libtensorflowlite_c.so'));
    expect(error.code).toBe('TFLITE_ADDON_LOAD');
    expect(error.message).toMatch(/dlopen failed .*No such file or directory/);
    expect(thrown(() => new binding.TfLiteLibrary(42))).toBeInstanceOf(TypeError);
  });

  it('copies model bytes from any offset (the private copy is 16-byte aligned)', () => {
    const model = tinyAddModel(4);
    const shifted = new Uint8Array(model.length + 3);
    shifted.set(model, 3);
    const i = new binding.Interpreter(library, shifted.subarray(3), { xnnpack: false });
    shifted.fill(0);
    i.setInput(0, new Float32Array([0, 0, 0, 0]));
    i.invoke();
    expect(Array.from(i.getOutput(0))).toEqual([1, 2, 3, 4]);
    i.dispose();
  });

  it('validates constructor arguments by class', () => {
    const model = tinyAddModel(4);
    expect(thrown(() => new binding.Interpreter({}, model))).toBeInstanceOf(TypeError);
    expect(thrown(() => new binding.Interpreter(library, 'model'))).toBeInstanceOf(TypeError);
    expect(thrown(() => new binding.Interpreter(library, new Uint8Array(64)))).toBeInstanceOf(RangeError);
    expect(thrown(() => new binding.Interpreter(library, model, { threads: 0 }))).toBeInstanceOf(RangeError);
    expect(thrown(() => new binding.Interpreter(library, model, { threads: '1' }))).toBeInstanceOf(TypeError);
    expect(thrown(() => new binding.Interpreter(library, model, { xnnpack: 1 }))).toBeInstanceOf(TypeError);
    expect(thrown(() => new binding.Interpreter(library, model, { edgetpu: { library: 1 } }))).toBeInstanceOf(
      TypeError,
    );
    const error = thrown(
      () => new binding.Interpreter(library, model, { edgetpu: { library: '/nonexistent.so' } }),
    );
    expect(error.code).toBe('TFLITE_ADDON_DELEGATE');
    expect(error.reports[0]).toMatch(/dlopen failed for \/nonexistent\.so/);
  });

  it('reports TFLite error-reporter messages when a resize cannot be allocated', () => {
    const i = new binding.Interpreter(library, tinyAddModel(4), { xnnpack: false });
    i.resizeInput(0, [1, 5]); // [1,5] + [1,4] cannot broadcast
    const error = thrown(() => i.allocateTensors());
    expect(error.code).toBe('TFLITE_ADDON_RUNTIME');
    expect(error.reports.length).toBeGreaterThan(0);
    expect(error.message).toContain(error.reports[0]);
    i.dispose();
  });

  it('exchanges tensors through typed arrays of the exact kind and size', () => {
    const i = new binding.Interpreter(library, readFileSync(face), { threads: 1 });
    expect(i.delegates).toEqual(['xnnpack']);
    expect(thrown(() => i.setInput(0, new Uint8Array(128 * 128 * 3 * 4)))).toBeInstanceOf(TypeError);
    expect(thrown(() => i.setInput(0, new Float32Array(1)))).toBeInstanceOf(RangeError);
    expect(thrown(() => i.setInput(3, new Float32Array(1)))).toBeInstanceOf(RangeError);
    expect(thrown(() => i.inputInfo(1))).toBeInstanceOf(RangeError);
    i.setInput(0, new Float32Array(128 * 128 * 3));
    i.invoke();
    expect(i.getOutput(0)).toBeInstanceOf(Float32Array);
    i.dispose();
    expect(thrown(() => i.invoke()).code).toBe('TFLITE_ADDON_DISPOSED');
  });

  it('busy and disposed are coded errors', async () => {
    const i = new binding.Interpreter(library, readFileSync(face), { xnnpack: false });
    const p = i.invokeAsync();
    expect(thrown(() => i.invoke()).code).toBe('TFLITE_ADDON_BUSY');
    expect(thrown(() => i.invokeAsync()).code).toBe('TFLITE_ADDON_BUSY');
    i.dispose();
    await p;
    expect(i.disposed).toBe(true);
  });

  it('mock Edge TPU: runs a compiled model end to end (claims edgetpu-custom-op, deterministic outputs)', () => {
    const mock = inject('mockEdgeTpuLibrary');
    delete process.env.MOCK_EDGETPU_DEVICES;
    const compiled = readFileSync(
      new URL('../../../fixtures/models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite', import.meta.url),
    );
    // Without the delegate nothing here runs the custom op.
    expect(thrown(() => new binding.Interpreter(library, compiled, {})).message).toMatch(
      /unresolved custom op: edgetpu-custom-op/,
    );
    const i = new binding.Interpreter(library, compiled, { edgetpu: { library: mock } });
    const x = new Uint8Array(128 * 128 * 3);
    for (let j = 0; j < x.length; j++) x[j] = (j * 7) & 0xff;
    const s = x.reduce((a, b) => a + b, 0);
    i.setInput(0, x);
    i.invoke();
    const y = i.getOutput(0);
    expect(y).toBeInstanceOf(Uint8Array);
    expect(y.length).toBe(1001);
    // The documented mock behaviour: byte j of output 0 is (sum of input bytes + j) mod 256.
    expect(Array.from(y)).toEqual(Array.from({ length: 1001 }, (_, j) => (s + j) & 0xff));
    i.dispose();
  });

  it('mock Edge TPU: a model without edgetpu-custom-op stays on the CPU kernels (outputs unchanged)', () => {
    const mock = inject('mockEdgeTpuLibrary');
    delete process.env.MOCK_EDGETPU_DEVICES;
    const model = tinyAddModel(4);
    const i = new binding.Interpreter(library, model, { edgetpu: { library: mock } });
    i.setInput(0, new Float32Array([1, 1, 1, 1]));
    i.invoke();
    expect(Array.from(i.getOutput(0))).toEqual([2, 3, 4, 5]);
    i.dispose();
  });

  it('lists devices of the mock library and none for an absent one', () => {
    const mock = inject('mockEdgeTpuLibrary');
    delete process.env.MOCK_EDGETPU_DEVICES;
    expect(binding.listEdgeTpus(mock)).toEqual({
      devices: [{ type: 1, path: '/sys/bus/usb/devices/mock-1' }],
      error: null,
    });
    const absent = binding.listEdgeTpus('/nonexistent/libedgetpu.so.1');
    expect(absent.devices).toEqual([]);
    expect(absent.error).toMatch(/dlopen failed/);
    expect(binding.listEdgeTpus(defaultTfLiteLibraryPath()).error).toMatch(
      /does not export edgetpu_list_devices/,
    );
  });
});
