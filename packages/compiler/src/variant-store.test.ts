import { readFile } from 'node:fs/promises';
import { ErrorCodes } from '@swapless/core';
import { buildTestNet, tinyModel } from '@swapless/int8-builder';
import { analyzeModel, readModel, splitModel, writeModel } from '@swapless/tflite';
import { compileReport, getProfile } from '@swapless/tpu-emulator';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COMPILER_ENV } from './edgetpu.js';
import { FAKE_COMPILER, removeTempDirs, tempDir } from './fake-compiler.test-util.js';
import { type ServedVariant, VariantStore, type VariantStoreEvent } from './variant-store.js';

const testNet = writeModel(buildTestNet());
const N = analyzeModel(buildTestNet()).n;
const usb3 = getProfile('usb3');
const pcie = getProfile('pcie');

beforeEach(() => {
  vi.stubEnv(COMPILER_ENV, '');
});
afterEach(() => {
  vi.unstubAllEnvs();
});
afterAll(removeTempDirs);

/** Every event of a store, in order. */
function recorded(): { events: VariantStoreEvent[]; store: (o?: object) => VariantStore } {
  const events: VariantStoreEvent[] = [];
  return { events, store: (o = {}) => new VariantStore({ ...o, onEvent: (e) => events.push(e) }) };
}

describe('VariantStore: one parse, one split, one report', () => {
  it('parses a model once and splits each (model, k) once, whichever caller and profile ask', () => {
    const { events, store: make } = recorded();
    const store = make();
    // Three callers with three copies of the same bytes (the controller, the runtime, the service).
    const a = store.model(testNet.slice());
    const b = store.model(testNet.slice());
    expect(b).toBe(a);
    for (let round = 0; round < 3; round++) {
      store.report(testNet, 4, 'usb3');
      store.variant(a, 4, usb3);
      store.variant(testNet.slice(), 4, null);
      store.report(a, 4, 'pcie');
    }
    expect(events.filter((e) => e.type === 'parse')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'split')).toEqual([{ type: 'split', model: a.sha256, k: 4 }]);
    // One report per profile: usb3 and pcie differ in SRAM, so they are two reports of one split.
    expect(events.filter((e) => e.type === 'report').map((e) => (e as { profile: string }).profile)).toEqual([
      'usb3',
      'pcie',
    ]);
    expect(store.stats()).toMatchObject({ models: 1, variants: 1, parses: 1, splits: 1, reports: 2 });
  });

  it('serves the parts the splitter makes, the model itself at the ends, and never the caller’s buffer', () => {
    const store = new VariantStore();
    const mine = testNet.slice();
    const m = store.model(mine);
    expect(m.bytes).not.toBe(mine);
    mine.fill(0); // the caller reuses its buffer: the store's copy is untouched
    expect(store.variant(m, 0, usb3)).toMatchObject({ head: null, tail: m.bytes, report: null, n: N });
    const whole = store.variant(m, N, usb3);
    expect(whole.head).toBe(m.bytes);
    expect(whole.tail).toBeNull();
    const inner = store.variant(m, 3, usb3);
    const { head, tail } = splitModel(readModel(testNet), 3);
    expect(inner.head).toEqual(writeModel(head!));
    expect(inner.tail).toEqual(writeModel(tail!));
    expect(inner.report?.cachingToken).toBe(store.report(m, 3, usb3)?.cachingToken);
    expect(inner.id).toBe(`${m.sha256.slice(0, 8)}:k=3`);
    // Under another profile the parts are the same bytes (one split), the report is that profile's.
    const onPcie = store.variant(m, 3, pcie);
    expect(onPcie.head).toBe(inner.head);
    expect(onPcie.report).not.toBe(inner.report);
    expect(store.variant(m, 3, null).report).toBeNull();
  });
});

describe('VariantStore bounds', () => {
  it('keeps at most maxVariants splits, dropping the least recently used, and re-splits one asked again', () => {
    const { events, store: make } = recorded();
    const store = make({ maxVariants: 3 });
    const m = store.model(testNet);
    for (const k of [1, 2, 3]) store.report(m, k, usb3);
    store.report(m, 1, usb3); // k = 1 is now the most recent: k = 2 goes first
    store.report(m, 4, usb3);
    expect(store.stats()).toMatchObject({ variants: 3, splits: 4, evictions: 1 });
    expect(events.filter((e) => e.type === 'evict')).toEqual([{ type: 'evict', model: m.sha256, k: 2 }]);
    store.report(m, 1, usb3);
    expect(store.stats().splits).toBe(4);
    store.report(m, 2, usb3);
    expect(store.stats()).toMatchObject({ variants: 3, splits: 5, evictions: 2 });
  });

  it('keeps at most maxModels models and drops an evicted model’s variants with it', () => {
    const store = new VariantStore({ maxModels: 2 });
    const nets = [0, 1, 2].map((seed) => writeModel(buildTestNet(seed)));
    const first = store.model(nets[0]!);
    store.variant(first, 2, usb3);
    store.model(nets[1]!);
    store.model(nets[2]!);
    expect(store.stats()).toMatchObject({ models: 2, variants: 0, parses: 3 });
    // A variant handed out before the eviction still works, and its model comes back on the next ask.
    expect(store.variant(first, 2, usb3).head).not.toBeNull();
    expect(store.stats()).toMatchObject({ models: 2, parses: 4, splits: 2 });
  });

  it('keeps the bytes it holds under maxBytes, dropping least recently used variants and then models', () => {
    const nets = [0, 1, 2].map((seed) => writeModel(buildTestNet(seed)));
    const size = nets[0]!.length;
    const bound = Math.floor(2.5 * size); // room for two models and a few parts, not for three models
    const store = new VariantStore({ maxBytes: bound });
    const first = store.model(nets[0]!);
    const v = store.variant(first, 5, usb3);
    const parts = v.head!.length + v.tail!.length;
    expect(store.stats()).toMatchObject({ models: 1, variants: 1, bytes: size + parts });
    for (const net of [nets[1]!, nets[2]!]) {
      store.variant(net, 5, usb3);
      const stats = store.stats();
      expect(stats.bytes).toBeLessThanOrEqual(bound);
      expect(stats.evictions).toBeGreaterThan(0);
      // The most recent model and variant stay: asking again parses and splits nothing.
      store.variant(net, 5, usb3);
      expect(store.stats()).toMatchObject({ parses: stats.parses, splits: stats.splits });
    }
    // The least recent went first: the first model is parsed again.
    const parses = store.stats().parses;
    store.model(nets[0]!);
    expect(store.stats().parses).toBe(parses + 1);
    // The ends reuse the model's bytes: they add nothing.
    const ends = new VariantStore();
    ends.variant(nets[2]!, 0, usb3);
    ends.variant(nets[2]!, N, usb3);
    expect(ends.stats()).toMatchObject({ variants: 2, bytes: nets[2]!.length });
    // A store smaller than one model still serves it (the most recent stays).
    const tiny = new VariantStore({ maxBytes: 1 });
    expect(tiny.variant(nets[0]!, 4, usb3).head).not.toBeNull();
    expect(tiny.stats()).toMatchObject({ models: 1, variants: 1 });
  });

  it('refuses bounds that are not positive integers', () => {
    expect(() => new VariantStore({ maxVariants: 0 })).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }),
    );
    expect(() => new VariantStore({ maxModels: 1.5 })).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }),
    );
  });
});

describe('VariantStore with hostile input: typed errors, nothing cached', () => {
  it('gives InvalidModelError for bytes that are not a model, and keeps nothing of them', () => {
    const store = new VariantStore();
    const garbage = new Uint8Array(4096).map((_, i) => (i * 131) % 251);
    expect(() => store.model(garbage)).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_MODEL }));
    const truncated = testNet.slice(0, testNet.length >> 1);
    expect(() => store.variant(truncated, 2, usb3)).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_MODEL }),
    );
    expect(() => store.model('model.tflite' as unknown as Uint8Array)).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }),
    );
    expect(store.stats()).toMatchObject({ models: 0, variants: 0, parses: 0, splits: 0 });
  });

  it('gives InvalidCutError for a cut outside 0..n, and UnsupportedModelError for a head the device cannot run', () => {
    const store = new VariantStore();
    for (const k of [-1, N + 1, 2.5, Number.NaN]) {
      expect(() => store.variant(testNet, k, usb3)).toThrow(
        expect.objectContaining({ code: ErrorCodes.INVALID_CUT }),
      );
    }
    const float = writeModel(tinyModel());
    expect(() => store.variant(float, 1, usb3)).toThrow(
      expect.objectContaining({ code: ErrorCodes.UNSUPPORTED_MODEL }),
    );
    // The failed variant is not cached: asking again fails again, and k = 0 still serves the whole model.
    expect(() => store.variant(float, 1, usb3)).toThrow(
      expect.objectContaining({ code: ErrorCodes.UNSUPPORTED_MODEL }),
    );
    expect(store.variant(float, 0, usb3).tail).toEqual(float);
  });

  it('refuses to compile a variant it did not make, or one with no head', async () => {
    const store = new VariantStore();
    const fake = { ...store.variant(testNet, 3, null) } as ServedVariant;
    await expect(store.compiledHead(fake)).rejects.toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
    await expect(store.compiledHead(store.variant(testNet, 0, null))).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
  });

  it('ignores a listener that throws', () => {
    const store = new VariantStore({
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    expect(store.variant(testNet, 3, usb3).head).not.toBeNull();
  });
});

describe('VariantStore.compiledHead (fake edgetpu_compiler)', () => {
  it('compiles a head once from the store’s own split, and a second store reads it back without compiling', async () => {
    const cacheDir = await tempDir();
    const calls = `${await tempDir()}/calls.jsonl`;
    vi.stubEnv('FAKE_EDGETPU_CALLS', calls);
    const { events, store: make } = recorded();
    const store = make({ compiler: { compilerPath: FAKE_COMPILER, cacheDir } });
    const v = store.variant(testNet, 4, null);
    const [a, b] = await Promise.all([store.compiledHead(v), store.compiledHead(v)]);
    expect(b).toBe(a);
    expect(a.fromCache).toBe(false);
    expect(a.report?.source).toBe('edgetpu_compiler');
    // The fake compiler copies its input: the compiled head is exactly the head the store split.
    expect(a.bytes).toEqual(v.head);
    expect(await readFile(a.path)).toEqual(Buffer.from(v.head!));
    expect((await readFile(calls, 'utf8')).trim().split('\n')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'split')).toHaveLength(1);

    const again = new VariantStore({ compiler: { compilerPath: FAKE_COMPILER, cacheDir } });
    const c = await again.compiledHead(again.variant(testNet, 4, null));
    expect(c.fromCache).toBe(true);
    expect(c.bytes).toEqual(a.bytes);
    expect((await readFile(calls, 'utf8')).trim().split('\n')).toHaveLength(1);
  });
});

describe('VariantStore: co-compiled sets', () => {
  const other = writeModel(buildTestNet(9));

  it('makes one report per (set, order, cuts, profile), equal to compiling the heads together', () => {
    const { events, store: make } = recorded();
    const store = make();
    const members = [
      { model: testNet, k: 4 },
      { model: other, k: N },
    ];
    const a = store.coCompiledReport(members, 'usb3');
    expect(store.coCompiledReport(members, usb3)).toBe(a);
    const heads = [splitModel(readModel(testNet), 4).head!, readModel(other)];
    const { cachingToken: _t, ...together } = compileReport(heads, 'usb3');
    const { cachingToken: _u, ...made } = a;
    expect(made).toEqual(together);
    // Another order, another cut, another profile: another set each.
    const reversed = store.coCompiledReport([...members].reverse(), 'usb3');
    expect(reversed.cachingToken).not.toBe(a.cachingToken);
    store.coCompiledReport([{ model: testNet, k: 3 }, members[1]!], 'usb3');
    store.coCompiledReport(members, pcie);
    expect(events.filter((e) => e.type === 'set')).toHaveLength(4);
    expect(store.stats().sets).toBe(4);
  });

  it('keeps at most maxSets reports and refuses a member without a head', () => {
    const store = new VariantStore({ maxSets: 1 });
    const one = store.coCompiledReport([{ model: testNet, k: 4 }], 'usb3');
    store.coCompiledReport([{ model: testNet, k: 3 }], 'usb3');
    expect(store.coCompiledReport([{ model: testNet, k: 4 }], 'usb3')).not.toBe(one);
    expect(store.stats().sets).toBe(3);
    expect(() => store.coCompiledReport([{ model: testNet, k: 0 }], 'usb3')).toThrowError(
      expect.objectContaining({ code: ErrorCodes.INVALID_CUT }),
    );
    expect(() => store.coCompiledReport([], 'usb3')).toThrowError(
      expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }),
    );
  });
});
