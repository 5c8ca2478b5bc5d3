import { VariantStore, type VariantStoreEvent } from '@swapless/compiler';
import { ErrorCodes } from '@swapless/core';
import { buildTestNet } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
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
    const store = new VariantStore();
    const entry = new ModelEntry(store, store.model(testNetBytes(0)));
    const bytes = entry.bytes;
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
    const store = new VariantStore();
    const entry = new ModelEntry(store, store.model(twoGraphBytes()));
    const bytes = entry.bytes;
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

describe('variants from the store', () => {
  let rt: Runtime | null = null;
  afterEach(async () => {
    await rt?.close();
    rt = null;
  });

  it('splits each (model, k) once across tenants and reconfigurations, in the store it is given', async () => {
    const events: VariantStoreEvent[] = [];
    const store = new VariantStore({ onEvent: (e) => events.push(e) });
    rt = await createRuntime({ cores: 2, emulator: { timeScale: 0 }, variants: store });
    const bytes = testNetBytes(0);
    // Two tenants of one model, each given its own copy of the bytes.
    await rt.addTenant({ name: 'a', model: bytes.slice(), choice: { k: 3, cores: 1 } });
    await rt.addTenant({ name: 'b', model: bytes.slice(), choice: { k: 5, cores: 1 } });
    for (const [ka, kb] of [
      [5, 3],
      [3, 5],
      [5, 3],
    ] as const) {
      await rt.reconfigure({
        tenants: [
          { name: 'a', k: ka, cores: 1 },
          { name: 'b', k: kb, cores: 1 },
        ],
      });
      const x = testInput(ka);
      expect((await rt.submit('a', [x])).outputs).toEqual(reference(bytes, [x]));
    }
    expect(events.filter((e) => e.type === 'parse')).toHaveLength(1);
    const splits = events.filter((e) => e.type === 'split').map((e) => (e as { k: number }).k);
    expect(splits.sort()).toEqual([3, 5]);
    expect(rt.stats().variantsCached).toBe(2);
  });

  it('refuses a variants option that is not a store, and bytes that are not a model with InvalidModelError', async () => {
    await expect(createRuntime({ cores: 1, variants: {} as unknown as VariantStore })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
    rt = await createRuntime({ cores: 1, emulator: { timeScale: 0 }, variants: new VariantStore() });
    await expect(
      rt.addTenant({ name: 'x', model: new Uint8Array(512).fill(7), choice: { k: 0, cores: 1 } }),
    ).rejects.toMatchObject({ code: ErrorCodes.INVALID_MODEL });
  });
});
