import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, type ProgressEvent } from '@swapless/core';
import { createInterpreter, runtimeInfo } from '@swapless/edgetpu';
import { analyzeModel, cutPoints, INT8_REWRITE_VERSION, readModel, writeModel } from '@swapless/tflite';
import { beforeAll, describe, expect, it } from 'vitest';
import { countingFactory, FACE_MODEL, partlyMappableBytes, testNetBytes } from './fixtures.test-util.js';
import type { InterpreterFactory } from './measure.js';
import { profileModel } from './profile.js';
import { validateProfile } from './schema.js';
import type { ProfileResult } from './types.js';

const fast = { repetitions: 3, warmup: 1, cache: false } as const;

describe('profileModel on buildTestNet, every cut', () => {
  const bytes = testNetBytes();
  const events: ProgressEvent[] = [];
  const counter = countingFactory();
  let p: ProfileResult;
  beforeAll(async () => {
    p = await profileModel(bytes, {
      ...fast,
      cuts: 'all',
      threads: [2, 1, 2],
      onProgress: (e) => events.push(e),
      createInterpreter: counter.factory,
    });
  });

  it('returns a schema-valid document whose JSON is exactly the document', () => {
    const json = JSON.parse(JSON.stringify(p));
    expect(validateProfile(json)).toEqual(json);
    expect(Object.keys(json)).not.toContain('cached');
    expect([p.cached, p.cachePath, p.warnings]).toEqual([false, null, []]);
    expect(Object.isFrozen(p.cuts[0]!)).toBe(true);
  });

  it('records model, runtime, host and settings identity', () => {
    expect(p.model.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(p.model).toMatchObject({ bytes: bytes.byteLength, n: 10, edgetpuPrefix: 10 });
    expect(p.runtime).toEqual({
      tfliteVersion: runtimeInfo().tfliteVersion,
      xnnpack: true,
      uint8: 'int8',
      int8Rewrite: INT8_REWRITE_VERSION,
    });
    expect(p.host.cores).toBeGreaterThan(0);
    expect(p.settings).toEqual({
      cuts: 'all',
      threads: [1, 2],
      warmup: 1,
      repetitions: 3,
      blockSize: 5,
      seed: 0,
      timer: 'hrtime-invoke',
    });
  });

  it('has every cut 0..n with its static costs and every (part, threads) with `repetitions` samples', () => {
    const points = cutPoints(readModel(bytes));
    expect(p.cuts.map((c) => c.k)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const cut of p.cuts) {
      const point = points[cut.k]!;
      expect(cut).toMatchObject({
        boundaryTensors: point.boundary.length,
        boundaryBytes: point.bytes,
        transferBytes: point.transferBytes,
        prefixMacs: point.prefixMacs,
        suffixMacs: point.suffixMacs,
        edgetpuMappable: true,
      });
      expect(cut.prefix === null).toBe(cut.k === 0);
      expect(cut.suffix === null).toBe(cut.k === 10);
      for (const part of [cut.prefix, cut.suffix]) {
        if (part === null) continue;
        expect(part.measurements.map((m) => m.threads)).toEqual([1, 2]);
        for (const m of part.measurements) {
          expect(m.samples).toHaveLength(3);
          expect(m.samples.every((s) => s > 0)).toBe(true);
        }
      }
    }
    expect(p.cuts[3]!.prefix!.ops).toEqual([0, 3]);
    expect(p.cuts[3]!.suffix!.ops).toEqual([3, 10]);
  });

  it('measures the whole model once: the k = 0 suffix is the k = n prefix', () => {
    const whole = p.cuts[0]!.suffix!;
    expect(whole.ops).toEqual([0, 10]);
    expect(p.cuts[10]!.prefix).toEqual(whole);
  });

  it('creates one interpreter per distinct (part, threads), all disposed', () => {
    // 10 prefixes [0,k) for k = 1..10 and 10 suffixes [k,10) for k = 0..9, minus the shared whole model.
    expect(counter.created).toHaveLength(19 * 2);
    expect(counter.disposed()).toBe(19 * 2);
  });

  it('reports progress per (part, threads) up to the total', () => {
    const total = 19 * 2;
    expect(events[0]).toEqual({ phase: 'profile', done: 0, total });
    expect(events.at(-1)).toMatchObject({ done: total, total });
    expect(events.map((e) => e.done)).toEqual(Array.from({ length: total + 1 }, (_, i) => i));
    expect(events.every((e) => e.phase === 'profile')).toBe(true);
    expect(events.map((e) => e.label)).toContain('k=4 suffix, 2 threads');
    expect(events.map((e) => e.label)).toContain('k=4 prefix, 1 thread');
  });
});

describe("a uint8 model (Coral's mobilenet_v1_0.25_128_quant)", () => {
  const V1 = fileURLToPath(
    new URL('../../../fixtures/models/coral/mobilenet_v1_0.25_128_quant.tflite', import.meta.url),
  );

  it('is measured as its int8 rewrite on XNNPACK, and every part says so', async () => {
    const p = await profileModel(V1, { ...fast, cuts: [0, 14, 31], threads: [1] });
    expect(p.runtime).toMatchObject({ xnnpack: true, uint8: 'int8', int8Rewrite: INT8_REWRITE_VERSION });
    const parts = p.cuts.flatMap((c) => [c.prefix, c.suffix]).filter((x) => x !== null);
    expect(parts).toHaveLength(4);
    for (const part of parts) expect(part).toMatchObject({ kernels: 'xnnpack', int8: true });
  });

  it('records the kernels a part really ran on: reference when XNNPACK could not prepare it', async () => {
    const reference: InterpreterFactory = (bytes, threads) =>
      createInterpreter(bytes, { threads, uint8: 'as-is' });
    const p = await profileModel(V1, { ...fast, cuts: [0], threads: [1], createInterpreter: reference });
    expect(p.cuts[0]!.suffix).toMatchObject({ kernels: 'reference', int8: false });
  });
});

describe('the float face model', () => {
  it('runs on XNNPACK without a rewrite', async () => {
    const p = await profileModel(FACE_MODEL, { ...fast, cuts: [0], threads: [1] });
    expect(p.cuts[0]!.suffix).toMatchObject({ kernels: 'xnnpack', int8: false });
  });
});

describe('cut selection', () => {
  it("'auto' picks cuts inside the mappable prefix, always 0 and its end, at most maxCuts", async () => {
    const bytes = partlyMappableBytes();
    const analysis = analyzeModel(readModel(bytes));
    const m = analysis.edgetpuPrefix.length;
    expect(m).toBeGreaterThan(2);
    expect(m).toBeLessThan(analysis.n);
    const p = await profileModel(bytes, { ...fast, threads: [1], maxCuts: 4 });
    const ks = p.cuts.map((c) => c.k);
    expect(ks).toHaveLength(4);
    expect(ks[0]).toBe(0);
    expect(ks.at(-1)).toBe(m);
    expect(p.cuts.every((c) => c.edgetpuMappable)).toBe(true);
    expect(p.settings).toMatchObject({ cuts: 'auto', maxCuts: 4 });
    // The end of the mappable prefix has a non-empty CPU suffix here.
    expect(p.cuts.at(-1)!.suffix!.ops).toEqual([m, analysis.n]);
  });

  it("'auto' with maxCuts 2 keeps only the ends", async () => {
    const p = await profileModel(testNetBytes(), { ...fast, threads: [1], maxCuts: 2 });
    expect(p.cuts.map((c) => c.k)).toEqual([0, 10]);
  });

  it("'auto' on the float face model profiles cut 0 alone: a CPU-only model", async () => {
    const p = await profileModel(FACE_MODEL, { ...fast, threads: [1] });
    expect(p.model).toMatchObject({ n: 90, edgetpuPrefix: 0 });
    expect(p.cuts.map((c) => c.k)).toEqual([0]);
    expect(p.cuts[0]!.prefix).toBeNull();
    expect(p.cuts[0]!.suffix!.ops).toEqual([0, 90]);
  });

  it('explicit cuts on the face model profile CPU-only, sorted and deduplicated', async () => {
    const p = await profileModel(FACE_MODEL, { ...fast, cuts: [90, 30, 0, 30], threads: [1, 2] });
    expect(p.model).toMatchObject({ n: 90, edgetpuPrefix: 0, name: 'face_detection_short_range' });
    expect(p.cuts.map((c) => c.k)).toEqual([0, 30, 90]);
    expect(p.cuts[1]!.edgetpuMappable).toBe(false);
    expect(p.cuts[0]!.suffix!.measurements[0]!.samples).toHaveLength(3);
    expect(p.settings.cuts).toBe('list');
  });

  it("'all' on the face model covers 0..90", async () => {
    const p = await profileModel(FACE_MODEL, {
      cuts: 'all',
      threads: [1],
      repetitions: 1,
      warmup: 0,
      cache: false,
    });
    expect(p.cuts).toHaveLength(91);
  });

  it('out-of-range or non-integer cuts are InvalidCutError with the house message', async () => {
    await expect(profileModel(FACE_MODEL, { ...fast, cuts: [0, 91] })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_CUT,
      message: 'Expected an integer cut point between 0 and 90 for a model of 90 ops but received 91',
    });
    for (const bad of [-1, 1.5, '3']) {
      await expect(profileModel(testNetBytes(), { ...fast, cuts: [bad as number] })).rejects.toMatchObject({
        code: ErrorCodes.INVALID_CUT,
      });
    }
  });
});

describe('the ends are the model as given', () => {
  /** A factory that records the bytes of every interpreter it creates. */
  const recording = () => {
    const seen: Uint8Array[] = [];
    const factory: InterpreterFactory = (bytes, threads) => {
      seen.push(bytes);
      return createInterpreter(bytes, { threads, xnnpack: true });
    };
    return { seen, factory };
  };
  const twoGraphs = (bytes: Uint8Array) => {
    const m = readModel(bytes);
    return writeModel({ ...m, subgraphs: [m.subgraphs[0]!, m.subgraphs[0]!] });
  };

  it('measures the whole model on the bytes given, not on a rewrite of them', async () => {
    const face = new Uint8Array(readFileSync(FACE_MODEL));
    // MediaPipe's converter lays the file out differently from our writer: a rewrite would not be these bytes.
    expect(Buffer.from(writeModel(readModel(face))).equals(Buffer.from(face))).toBe(false);
    const { seen, factory } = recording();
    const p = await profileModel(face, { ...fast, threads: [1], createInterpreter: factory });
    expect(p.cuts[0]!.suffix!.bytes).toBe(face.byteLength);
    expect(seen).toHaveLength(1);
    expect(Buffer.from(seen[0]!).equals(Buffer.from(face))).toBe(true);
  });

  it("profiles a model that cannot be split (two subgraphs) at its ends: 'auto' keeps cut 0", async () => {
    const float = twoGraphs(new Uint8Array(readFileSync(FACE_MODEL)));
    const { seen, factory } = recording();
    const p = await profileModel(float, { ...fast, threads: [1], createInterpreter: factory });
    expect(p.cuts.map((c) => c.k)).toEqual([0]);
    expect(Buffer.from(seen[0]!).equals(Buffer.from(float))).toBe(true);
    // All of an int8 net maps: both ends, and nothing in between.
    const int8 = await profileModel(twoGraphs(testNetBytes()), { ...fast, threads: [1] });
    expect(int8.cuts.map((c) => c.k)).toEqual([0, 10]);
    expect(int8.cuts[1]!.prefix).toEqual(int8.cuts[0]!.suffix);
    // An inner cut asked for by name is refused with the reason.
    await expect(profileModel(float, { ...fast, threads: [1], cuts: [0, 5] })).rejects.toMatchObject({
      code: ErrorCodes.UNSUPPORTED_MODEL,
      message: expect.stringMatching(/has 2 subgraphs/),
    });
  });
});

describe('invalid arguments', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['threads 0', { threads: [0] }, /integers in \[1, 256\] for options.threads but received 0/],
    ['threads empty', { threads: [] }, /non-empty array of thread counts/],
    ['repetitions 0', { repetitions: 0 }, /an integer ≥ 1 for options.repetitions but received 0/],
    ['warmup -1', { warmup: -1 }, /options.warmup/],
    ['maxCuts 1', { maxCuts: 1 }, /options.maxCuts/],
    ['blockSize 0', { blockSize: 0 }, /options.blockSize/],
    ['seed 0.5', { seed: 0.5 }, /options.seed/],
    ['cuts word', { cuts: 'some' }, /'auto', 'all' or a non-empty array of cut points for options.cuts/],
    ['cuts empty', { cuts: [] }, /options.cuts/],
    ['unknown option', { thread: 2 }, /for the option names but received "thread"/],
    ['cache not boolean', { cache: 'no' }, /options.cache/],
  ];
  for (const [label, options, message] of cases) {
    it(`${label} → SWAPLESS_INVALID_ARGUMENT`, async () => {
      await expect(profileModel(testNetBytes(), options)).rejects.toMatchObject({
        code: ErrorCodes.INVALID_ARGUMENT,
        message: expect.stringMatching(message),
      });
    });
  }

  it('a model that is neither bytes nor a path, a missing file, and bytes that are not TFLite', async () => {
    await expect(profileModel(42 as unknown as string)).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
    await expect(profileModel('/nonexistent/model.tflite')).rejects.toMatchObject({ code: ErrorCodes.IO });
    await expect(profileModel(new Uint8Array(64))).rejects.toMatchObject({ code: ErrorCodes.INVALID_MODEL });
  });
});
