import { ErrorCodes, NativeLoadError } from '@swapless/core';
import { defaultTfLiteLibraryPath } from '@swapless/tflite-addon';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRuntime, runtimeInfo, TFLITE_LIB_ENV } from './index.js';
import { loadNative } from './loader.js';
import { tinyAddModel } from './test-support.js';

function loadError(run: () => unknown): NativeLoadError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(NativeLoadError);
    return error as NativeLoadError;
  }
  throw new Error('expected a NativeLoadError');
}

afterEach(() => {
  delete process.env[TFLITE_LIB_ENV];
});

describe('loader', () => {
  it('loads the bundled TFLite 2.9 library by default', () => {
    const info = runtimeInfo();
    expect(info.tfliteVersion).toBe('2.9.0');
    expect(info.tfliteLibrary).toBe(defaultTfLiteLibraryPath());
    expect(info.addon).toMatch(/swapless_tflite\.node$/);
  });

  it('throws one NativeLoadError listing every TFLite library tried, with the reason and the fix', () => {
    const error = loadError(() =>
      loadNative({ tfliteLibrary: ['/nonexistent/a/libtensorflowlite_c.so', '/etc/hostname'] }),
    );
    expect(error.code).toBe(ErrorCodes.NATIVE_LOAD);
    expect(error.causes).toHaveLength(2);
    expect(error.causes[0]).toMatch(/\/nonexistent\/a\/libtensorflowlite_c\.so: .*No such file or directory/);
    expect(error.causes[1]).toMatch(/\/etc\/hostname: .*(invalid ELF header|file too short)/);
    expect(error.message).toContain('Tried:');
    expect(error.message).toContain(error.causes[0]);
    expect(error.message).toContain(error.causes[1]);
    expect(error.message).toMatch(/Fix: .*SWAPLESS_TFLITE_LIB/);
    expect(error.details.causes).toEqual(error.causes);
  });

  it('names the missing symbols of a library that is not TFLite', () => {
    const error = loadError(() => loadNative({ tfliteLibrary: 'libz.so.1' }));
    expect(error.causes[0]).toMatch(/missing symbols: TfLiteVersion .*TfLiteXNNPackDelegateCreate/);
  });

  it('honours SWAPLESS_TFLITE_LIB alone, never silently replacing an explicit choice', () => {
    process.env[TFLITE_LIB_ENV] = '/nonexistent/env/libtensorflowlite_c.so';
    const error = loadError(() => loadNative());
    expect(error.causes).toEqual([expect.stringContaining('/nonexistent/env/libtensorflowlite_c.so')]);
    process.env[TFLITE_LIB_ENV] = defaultTfLiteLibraryPath()!;
    expect(loadNative().tfliteLibraryPath).toBe(defaultTfLiteLibraryPath());
  });

  it('reports an addon that cannot be loaded, with the build command', () => {
    const error = loadError(() => loadNative({ addon: '/nonexistent/swapless_tflite.node' }));
    expect(error.causes).toEqual([expect.stringMatching(/^addon \/nonexistent\/swapless_tflite\.node: /)]);
    expect(error.message).toMatch(/npm run build -w @swapless\/tflite-addon/);
  });

  it('an injected runtime works like the default one', () => {
    const runtime = loadRuntime({ tfliteLibrary: defaultTfLiteLibraryPath()! });
    const i = runtime.createInterpreter(tinyAddModel(2));
    i.setInput(0, new Float32Array([1, 1]));
    i.invoke();
    expect(i.getOutput(0)).toEqual(new Float32Array([2, 3]));
    i.dispose();
  });
});
