import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes } from '@swapless/core';
import { defaultModel } from '@swapless/queueing';
import { readModel, writeModel } from '@swapless/tflite';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCatalog, compiledCatalog, type TenantCatalog } from './catalog.js';
import { assertServable, assertSplittable, classifyModel, edgetpuPart } from './classes.js';
import { planWorkload } from './plan.js';
import { createPolicy, POLICY_NAMES } from './policy.js';
import { baselineChoices } from './search.js';
import { runPolicyInSim } from './simrun.js';
import { syntheticCatalog } from './synthetic.test-util.js';

const coral = (name: string) =>
  fileURLToPath(new URL(`../../../fixtures/models/coral/${name}`, import.meta.url));
const require = createRequire(import.meta.url);
const FACE = require.resolve('@mediapipe/face_detection/face_detection_short_range.tflite');
const SELFIE = require.resolve('@mediapipe/selfie_segmentation/selfie_segmentation.tflite');
const bytesOf = (path: string) => new Uint8Array(readFileSync(path));
const classOf = (path: string) => classifyModel(readModel(bytesOf(path)));

describe('classifyModel on real models', () => {
  it('Coral uint8 classifiers are partitioned', () => {
    for (const f of ['mobilenet_v2_1.0_224_quant.tflite', 'mobilenet_v1_0.25_128_quant.tflite']) {
      const c = classOf(coral(f));
      expect(c).toMatchObject({ kind: 'partitioned', reason: null, unmappable: null });
      expect(c.edgetpuPrefix).toBeGreaterThan(0);
    }
  });

  it('a float model is CPU-only: "float model: nothing maps to the Edge TPU"', () => {
    expect(classOf(FACE)).toEqual({
      kind: 'cpu-only',
      n: 90,
      edgetpuPrefix: 0,
      unmappable: 'float model: nothing maps to the Edge TPU',
      reason: 'float model: nothing maps to the Edge TPU',
    });
  });

  it('a quantized model whose first op cannot map is CPU-only and names that op', () => {
    const c = classOf(coral('movenet_single_pose_lightning_ptq.tflite'));
    expect(c).toMatchObject({
      kind: 'cpu-only',
      edgetpuPrefix: 0,
      reason: 'nothing of this model maps to the Edge TPU (op 0 is CAST)',
    });
  });

  it('a compiled model is compiled; a model with an unresolved custom op cannot run', () => {
    const compiled = classOf(coral('mobilenet_v1_0.25_128_quant_edgetpu.tflite'));
    expect(compiled.kind).toBe('compiled');
    expect(compiled.reason).toMatch(/^compiled for the Edge TPU by edgetpu_compiler \(1 edgetpu-custom-op\)/);
    const selfie = classOf(SELFIE);
    expect(selfie).toMatchObject({
      kind: 'unrunnable',
      reason: 'cannot run here: custom op Convolution2DTransposeBias',
      unmappable: 'float model: nothing maps to the Edge TPU',
    });
  });
});

describe('assertServable and edgetpuPart', () => {
  it('refuses a custom op naming the subject, with SWAPLESS_UNSUPPORTED_MODEL', () => {
    expect(() => assertServable(classOf(SELFIE), 'tenant "seg"')).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.UNSUPPORTED_MODEL,
        message: 'tenant "seg": cannot run here: custom op Convolution2DTransposeBias',
      }),
    );
  });

  it('refuses a compiled model under emulation with the advice, serves it on a real Edge TPU', () => {
    const c = classOf(coral('mobilenet_v1_0.25_128_quant_edgetpu.tflite'));
    expect(() => assertServable(c, 'tenant "cls"')).toThrowError(
      /^tenant "cls": compiled for the Edge TPU .*give the uncompiled quantized model instead \(the \.tflite that was passed to edgetpu_compiler\)$/,
    );
    expect(() => assertServable(c, 'tenant "cls"', { realEdgeTpu: true })).not.toThrow();
    expect(() => assertServable(classOf(FACE), 'tenant "face"')).not.toThrow();
  });

  it('edgetpuPart: the prefix, or the sentence of why nothing maps', () => {
    expect(edgetpuPart(classOf(coral('mobilenet_v1_0.25_128_quant.tflite')), 'm')).toBe(31);
    expect(() =>
      edgetpuPart(classOf(coral('movenet_single_pose_lightning_ptq.tflite')), 'm.tflite'),
    ).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.UNSUPPORTED_MODEL,
        message: 'm.tflite: nothing of this model maps to the Edge TPU (op 0 is CAST)',
      }),
    );
    expect(() => edgetpuPart(classOf(FACE), 'f')).toThrowError(
      /^f: float model: nothing maps to the Edge TPU$/,
    );
    expect(() => edgetpuPart(classOf(coral('mobilenet_v1_0.25_128_quant_edgetpu.tflite')), 'c')).toThrowError(
      /^c: compiled .*; to split, emulate or compile it SwapLess needs its source: give the uncompiled/,
    );
  });

  it('assertSplittable refuses compiled models and custom ops, lets CPU-only models through', () => {
    expect(() => assertSplittable(classOf(SELFIE), 's')).toThrowError(
      /^s: cannot run here: custom op Convolution2DTransposeBias$/,
    );
    expect(() =>
      assertSplittable(classOf(coral('mobilenet_v1_0.25_128_quant_edgetpu.tflite')), 'c'),
    ).toThrowError(/needs its source/);
    expect(() => assertSplittable(classOf(FACE), 'f')).not.toThrow();
  });
});

describe('catalogs of each class', () => {
  let previous: string | undefined;
  let face: TenantCatalog;
  beforeAll(async () => {
    previous = process.env.SWAPLESS_CACHE_DIR;
    process.env.SWAPLESS_CACHE_DIR = await mkdtemp(join(tmpdir(), 'swapless-classes-'));
    face = await buildCatalog(bytesOf(FACE), { name: 'face', threads: [1, 2], repetitions: 3 });
    if (previous === undefined) delete process.env.SWAPLESS_CACHE_DIR;
    else process.env.SWAPLESS_CACHE_DIR = previous;
  });

  it('a float model makes a cpu-only catalog: cut 0 alone, measured at every thread count', () => {
    expect(face).toMatchObject({
      kind: 'cpu-only',
      reason: 'float model: nothing maps to the Edge TPU',
      edgetpuPrefix: 0,
      n: 90,
    });
    expect(face.cuts.map((c) => c.k)).toEqual([0]);
    expect(face.cuts[0]!.tpu).toBeNull();
    expect([...face.cuts[0]!.cpu!.keys()]).toEqual([1, 2]);
  });

  it('a float model that cannot be split (two subgraphs) is still a cpu-only catalog with cut 0', async () => {
    const m = readModel(bytesOf(FACE));
    const bytes = writeModel({ ...m, subgraphs: [m.subgraphs[0]!, m.subgraphs[0]!] });
    const c = await buildCatalog(bytes, { name: 'loop', threads: [1], repetitions: 3, cache: false });
    expect(c).toMatchObject({ kind: 'cpu-only', n: 90 });
    expect(c.cuts.map((x) => x.k)).toEqual([0]);
    expect(c.cuts[0]!.cpu!.get(1)).toHaveLength(3);
  });

  it('refuses a custom op and a compiled model before profiling anything', async () => {
    let progress = 0;
    await expect(
      buildCatalog(bytesOf(SELFIE), { name: 'seg', onProgress: () => progress++ }),
    ).rejects.toMatchObject({
      code: ErrorCodes.UNSUPPORTED_MODEL,
      message: 'model "seg": cannot run here: custom op Convolution2DTransposeBias',
    });
    await expect(
      buildCatalog(bytesOf(coral('mobilenet_v1_0.25_128_quant_edgetpu.tflite')), {
        name: 'c',
        onProgress: () => progress++,
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.UNSUPPORTED_MODEL, message: /give the uncompiled/ });
    expect(progress).toBe(0);
  });

  it('compiledCatalog: one fixed choice, the whole model on the Edge TPU; refuses other models', () => {
    const tpu = { token: 'c', serviceMs: 2, serviceVarianceMs2: 0, reloadMs: 1, source: 'measured' as const };
    const c = compiledCatalog(bytesOf(coral('mobilenet_v1_0.25_128_quant_edgetpu.tflite')), {
      name: 'cls',
      tpu,
    });
    expect(c).toMatchObject({ kind: 'compiled', n: 1, edgetpuPrefix: 1, profile: null, threads: [] });
    expect(c.cuts).toEqual([{ k: 1, tpu, cpu: null, boundaryBytes: 1001, tpuMacsShare: 1 }]);
    expect(() => compiledCatalog(bytesOf(FACE), { tpu })).toThrowError(
      expect.objectContaining({ code: ErrorCodes.UNSUPPORTED_MODEL }),
    );
  });

  it('plans a float tenant beside a partitioned one: the controller picks its cores, its cut stays 0', () => {
    const zoo = syntheticCatalog('zoo', { n: 30, cuts: 6, tpuMs: 2, cpuMs: 8 });
    const tenants = [
      { name: 'face', rate: 50, catalog: face },
      { name: 'zoo', rate: 50, catalog: zoo },
    ];
    const plan = planWorkload(tenants, 2, defaultModel);
    for (const p of plan.plans) {
      expect(p.reason).toBeUndefined();
      expect(p.choices![0]!.k).toBe(0);
      expect(p.choices![0]!.cores).toBeGreaterThanOrEqual(1);
      expect(p.prediction!.tenants[0]!.tpuServiceMs).toBe(0);
    }
  });
});

describe('policies with CPU-only and compiled tenants (synthetic catalogs)', () => {
  const cpuOnly = (): TenantCatalog => {
    const base = syntheticCatalog('float', { n: 20, cuts: 5, cpuMs: 6, seed: 3 });
    return { ...base, kind: 'cpu-only', reason: 'float model', edgetpuPrefix: 0, cuts: [base.cuts[0]!] };
  };
  const compiled = (): TenantCatalog => {
    const base = syntheticCatalog('compiled', { n: 1, cuts: 2, tpuMs: 3, seed: 4 });
    return { ...base, kind: 'compiled', reason: 'compiled', edgetpuPrefix: 1, cuts: [base.cuts.at(-1)!] };
  };
  const tenants = () => [
    { name: 'float', rate: 40, catalog: cpuOnly() },
    { name: 'compiled', rate: 40, catalog: compiled() },
    { name: 'zoo', rate: 40, catalog: syntheticCatalog('zoo', { n: 30, cuts: 6, seed: 5 }) },
  ];

  it('every baseline keeps the CPU-only tenant at 0 and the compiled one whole on the Edge TPU', () => {
    for (const policy of ['default', 'cpu', 'fixed'] as const) {
      const choices = baselineChoices(policy, tenants(), 4)!;
      expect(choices[0]).toMatchObject({ k: 0 });
      expect(choices[0]!.cores).toBeGreaterThanOrEqual(1);
      expect(choices[1]).toEqual({ k: 1, cores: 0, mode: 'mg1' });
    }
  });

  it('with fewer cores than CPU stages that must run, every policy refuses with a typed error', () => {
    const two = [
      { name: 'float', rate: 10, catalog: cpuOnly() },
      { name: 'float2', rate: 10, catalog: cpuOnly() },
    ];
    for (const name of POLICY_NAMES) {
      const policy =
        name === 'oracle' ? createPolicy('oracle', { seed: 1, durationMs: 2_000 }) : createPolicy(name);
      expect(() => policy.initial({ tenants: two, cores: 1 }), name).toThrowError(
        expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }),
      );
    }
  });

  it('every policy runs them in the simulator and never moves them', () => {
    for (const name of POLICY_NAMES) {
      const policy =
        name === 'oracle' ? createPolicy('oracle', { seed: 1, durationMs: 5_000 }) : createPolicy(name);
      const run = runPolicyInSim(
        { tenants: tenants(), cores: 4, device: 'usb3', phases: [], durationMs: 10_000, seed: 2 },
        policy,
      );
      expect(run.tenants.every((t) => t.completed > 0)).toBe(true);
      for (const d of run.decisions) {
        expect(d.tenants[0]!.k).toBe(0);
        expect(d.tenants[1]).toMatchObject({ k: 1, cores: 0 });
      }
    }
  });
});
