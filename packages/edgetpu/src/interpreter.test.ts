import { readFileSync } from 'node:fs';
import {
  ErrorCodes,
  InterpreterBusyError,
  InterpreterDisposedError,
  InvalidArgumentError,
  InvalidModelError,
  SwapLessIoError,
} from '@swapless/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createInterpreter, type Interpreter } from './index.js';
import { FACE_SHORT, maxRelativeDiff, pseudoRandom, tinyAddModel } from './test-support.js';

const open: Interpreter[] = [];
function track(i: Interpreter): Interpreter {
  open.push(i);
  return i;
}
afterEach(() => {
  for (const i of open.splice(0)) i.dispose();
});

const INPUT = pseudoRandom(128 * 128 * 3, 7);

function run(i: Interpreter): [Float32Array, Float32Array] {
  i.setInput(0, INPUT);
  i.invoke();
  return [i.getOutput(0) as Float32Array, i.getOutput(1) as Float32Array];
}

describe('Interpreter on the real face model', () => {
  it('reports tensor metadata and backend', () => {
    const i = track(createInterpreter(FACE_SHORT));
    expect(i.inputs).toEqual([
      {
        name: 'input',
        type: 'FLOAT32',
        shape: [1, 128, 128, 3],
        byteSize: 128 * 128 * 3 * 4,
        arrayType: 'Float32Array',
        quantization: null,
      },
    ]);
    expect(i.outputs.map((o) => [o.name, o.shape, o.byteSize])).toEqual([
      ['regressors', [1, 896, 16], 896 * 16 * 4],
      ['classificators', [1, 896, 1], 896 * 4],
    ]);
    expect(i.backend).toMatchObject({
      requested: 'cpu',
      delegates: ['xnnpack'],
      xnnpack: true,
      edgetpu: false,
    });
    expect(i.backend.fallbackReason).toBeUndefined();
  });

  it('accepts bytes as well as a path, and copies them (the caller may reuse its array)', () => {
    const bytes = new Uint8Array(readFileSync(FACE_SHORT));
    const a = track(createInterpreter(bytes));
    bytes.fill(0);
    const b = track(createInterpreter(FACE_SHORT));
    expect(run(a)).toEqual(run(b));
  });

  it('copies an output into a caller array without allocating a new one', () => {
    const i = track(createInterpreter(FACE_SHORT));
    const [regressors] = run(i);
    const target = new Float32Array(896 * 16);
    expect(i.getOutput(0, target)).toBe(target);
    expect(target).toEqual(regressors);
  });

  it('XNNPACK runs are deterministic across interpreters and close to the builtin kernels', () => {
    const a = run(track(createInterpreter(FACE_SHORT, { xnnpack: true })));
    const b = run(track(createInterpreter(FACE_SHORT, { xnnpack: true })));
    const plain = track(createInterpreter(FACE_SHORT, { xnnpack: false }));
    expect(plain.backend.delegates).toEqual([]);
    const c = run(plain);
    expect(a).toEqual(b);
    expect(maxRelativeDiff(a[0], c[0])).toBeLessThan(1e-3);
    expect(maxRelativeDiff(a[1], c[1])).toBeLessThan(1e-3);
  });

  it('gives the same outputs with 2 threads as with 1', () => {
    const one = run(track(createInterpreter(FACE_SHORT, { threads: 1 })));
    const two = run(track(createInterpreter(FACE_SHORT, { threads: 2 })));
    expect(maxRelativeDiff(one[0], two[0])).toBeLessThan(1e-4);
  });

  it('invokeAsync gives the outputs of invoke', async () => {
    const i = track(createInterpreter(FACE_SHORT));
    const sync = run(i);
    i.setInput(0, INPUT);
    await i.invokeAsync();
    expect([i.getOutput(0), i.getOutput(1)]).toEqual(sync);
  });

  it('invokeAsync leaves the event loop free; invoke does not', async () => {
    const i = track(createInterpreter(FACE_SHORT, { xnnpack: false }));
    i.setInput(0, INPUT);
    let ticks = 0;
    let running = true;
    const tick = () => {
      ticks += 1;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    // Sync: the loop cannot turn while we hold the thread.
    for (let n = 0; n < 5; n += 1) i.invoke();
    expect(ticks).toBe(0);
    // Async: every completion arrives through the loop's poll phase, after which its check phase runs the
    // pending setImmediate, so N sequential invokes give at least N − 1 ticks whatever the speed.
    const N = 20;
    for (let n = 0; n < N; n += 1) await i.invokeAsync();
    running = false;
    expect(ticks).toBeGreaterThanOrEqual(N - 1);
  });

  it('rejects every call while an invokeAsync is in flight, then recovers', async () => {
    const i = track(createInterpreter(FACE_SHORT, { xnnpack: false }));
    i.setInput(0, INPUT);
    const inflight = i.invokeAsync();
    expect(i.busy).toBe(true);
    expect(() => i.invoke()).toThrow(InterpreterBusyError);
    expect(() => i.setInput(0, INPUT)).toThrow(InterpreterBusyError);
    expect(() => i.getOutput(0)).toThrow(InterpreterBusyError);
    expect(() => i.resizeInput(0, [1, 128, 128, 3])).toThrow(InterpreterBusyError);
    const second = i.invokeAsync();
    await expect(second).rejects.toBeInstanceOf(InterpreterBusyError);
    await expect(second).rejects.toMatchObject({ code: ErrorCodes.INTERPRETER_BUSY });
    await inflight;
    expect(i.busy).toBe(false);
    expect(i.getOutput(1)).toHaveLength(896);
  });

  it('dispose during an in-flight invokeAsync is safe and deferred', async () => {
    for (let n = 0; n < 20; n += 1) {
      const i = createInterpreter(FACE_SHORT, { xnnpack: n % 2 === 0 });
      i.setInput(0, INPUT);
      const inflight = i.invokeAsync();
      i.dispose();
      expect(i.disposed).toBe(true);
      await inflight; // settles by the invoke's own outcome
      expect(() => i.getOutput(0)).toThrow(InterpreterDisposedError);
    }
  });

  it('throws InterpreterDisposedError for every call after dispose; dispose is idempotent', async () => {
    const i = createInterpreter(FACE_SHORT);
    i.dispose();
    i.dispose();
    expect(() => i.invoke()).toThrow(InterpreterDisposedError);
    expect(() => i.setInput(0, INPUT)).toThrow(InterpreterDisposedError);
    expect(() => i.getOutput(0)).toThrow(InterpreterDisposedError);
    expect(() => i.resizeInput(0, [1, 4])).toThrow(InterpreterDisposedError);
    expect(() => i.benchmarkInvoke(1)).toThrow(InterpreterDisposedError);
    await expect(i.invokeAsync()).rejects.toMatchObject({ code: ErrorCodes.INTERPRETER_DISPOSED });
  });

  it('maps wrong types and sizes to InvalidArgumentError, keeping the native TypeError/RangeError', () => {
    const i = track(createInterpreter(FACE_SHORT));
    const cases: [() => unknown, string][] = [
      [() => i.setInput(0, new Int32Array(128 * 128 * 3)), 'TypeError'],
      [() => i.setInput(0, [1, 2, 3] as unknown as Float32Array), 'TypeError'],
      [() => i.setInput(0, new Float32Array(10)), 'RangeError'],
      [() => i.setInput(1, INPUT), 'RangeError'],
      [() => i.setInput(-1, INPUT), 'RangeError'],
      [() => i.setInput(0.5, INPUT), 'RangeError'],
      [() => i.setInput('0' as unknown as number, INPUT), 'TypeError'],
      [() => i.getOutput(2), 'RangeError'],
      [() => i.getOutput(0, new Float32Array(3)), 'RangeError'],
      [() => i.getOutput(0, new Float64Array(896 * 16)), 'TypeError'],
      [() => i.resizeInput(0, [1, 0, 128, 3]), 'RangeError'],
      [() => i.resizeInput(0, 'big' as unknown as number[]), 'TypeError'],
      [() => i.benchmarkInvoke(0), 'RangeError'],
    ];
    for (const [call, nativeError] of cases) {
      let caught: unknown;
      try {
        call();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidArgumentError);
      expect(caught).toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT, details: { nativeError } });
      expect((caught as Error).message).toMatch(/^Expected .+ for .+ but received .+/);
      expect((caught as Error).cause).toBeInstanceOf(nativeError === 'TypeError' ? TypeError : RangeError);
    }
  });

  it('rejects bytes that are not a model and unreadable paths', () => {
    expect(() => createInterpreter(new Uint8Array(100))).toThrow(InvalidModelError);
    expect(() => createInterpreter('/nonexistent/model.tflite')).toThrow(SwapLessIoError);
  });
});

describe('Interpreter on the tiny model', () => {
  it('computes y = x + c', () => {
    const i = track(createInterpreter(tinyAddModel(4)));
    i.setInput(0, new Float32Array([10, 20, 30, 40]));
    i.invoke();
    expect(i.getOutput(0)).toEqual(new Float32Array([11, 22, 33, 44]));
  });

  it('resizes an input, reallocates and refreshes metadata', () => {
    const i = track(createInterpreter(tinyAddModel(4), { xnnpack: false }));
    i.resizeInput(0, [3, 4]);
    expect(i.inputs[0]!.shape).toEqual([3, 4]);
    expect(i.outputs[0]!.shape).toEqual([3, 4]);
    i.setInput(0, new Float32Array(12).fill(1));
    i.invoke();
    expect(Array.from(i.getOutput(0) as Float32Array)).toEqual([2, 3, 4, 5, 2, 3, 4, 5, 2, 3, 4, 5]);
  });

  it('benchmarkInvoke returns one positive duration per invoke', () => {
    const i = track(createInterpreter(tinyAddModel(4)));
    const ns = i.benchmarkInvoke(10);
    expect(ns).toHaveLength(10);
    expect(ns.every((t) => t >= 0)).toBe(true);
  });
});
