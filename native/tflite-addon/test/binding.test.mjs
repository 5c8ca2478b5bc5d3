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
