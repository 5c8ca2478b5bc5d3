import { ErrorCodes } from '@swapless/core';
import { buildTestNet, readModel, writeModel } from '@swapless/tflite';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from './index.js';
import { reference, testInput, testNetBytes } from './test-support.js';
import { ModelEntry } from './variants.js';

const N = 10; // compute ops of the test network

/** The test network with a second (uncalled) subgraph: TFLite runs it, but no cut between the ends exists. */
function twoGraphBytes(): Uint8Array {
  const m = buildTestNet(0);
  return writeModel({ ...m, subgraphs: [m.subgraphs[0]!, m.subgraphs[0]!] });
}

describe('ModelEntry variants at the ends', () => {
  it('serves the bytes given at k = 0 and k = n, and splits in between', () => {
    const bytes = testNetBytes(0);
    const entry = new ModelEntry(bytes, readModel(bytes));
    const cpu = entry.variant(0, null);
    expect(cpu.head).toBeNull();
    expect(cpu.tail).toBe(bytes);
    expect(cpu.boundary.tailInputs).toEqual([{ from: 'input', index: 0, name: expect.any(String) }]);
    expect(cpu.boundary.outputs.map((o) => [o.part, o.index])).toEqual([['tail', 0]]);
    const tpu = entry.variant(N, null);
    expect(tpu.tail).toBeNull();
    expect(tpu.head).toBe(bytes);
    expect(tpu.boundary.headInputs).toEqual([0]);
    const inner = entry.variant(4, null);
    expect(inner.head).not.toBe(bytes);
    expect(inner.tail).not.toBeNull();
  });

  it('gives a model no inner cut of which can be used both ends, and refuses the cuts in between', () => {
    const bytes = twoGraphBytes();
    const entry = new ModelEntry(bytes, readModel(bytes));
    expect(entry.variant(0, null).tail).toBe(bytes);
    expect(entry.variant(N, null).head).toBe(bytes);
    expect(() => entry.variant(3, null)).toThrow(
      expect.objectContaining({
        code: ErrorCodes.UNSUPPORTED_MODEL,
        message: expect.stringMatching(/2 subgraphs/),
      }),
    );
  });
});

describe('a tenant whose model cannot be split', () => {
  let rt: Runtime | null = null;
  afterEach(async () => {
    await rt?.close();
    rt = null;
  });

  it('runs as a CPU-only tenant (k = 0) with the outputs of the model itself', async () => {
    const bytes = twoGraphBytes();
    rt = await createRuntime({ cores: 2, emulator: { timeScale: 0 } });
    await rt.addTenant({ name: 'loop', model: bytes, choice: { k: 0, cores: 1 } });
    const x = testInput(3);
    const { outputs, trace } = await rt.submit('loop', [x]);
    expect(trace).toMatchObject({ k: 0, tpu: null });
    expect(outputs).toEqual(reference(bytes, [x]));
  });
});
