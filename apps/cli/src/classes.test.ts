// Every class of real model through the commands that plan, time, compile or demo it: the exit status and the
// first line of what the user sees. Coral's models are committed fixtures; MediaPipe's come from npm.
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { POLICY_NAMES } from '@swapless/controller';
import { describe, expect, it } from 'vitest';
import { cli, useTempCache } from './test-util.js';

const cacheDir = useTempCache('classes');
const coral = (name: string) =>
  fileURLToPath(new URL(`../../../fixtures/models/coral/${name}`, import.meta.url));
const require = createRequire(import.meta.url);
const mediapipe = (spec: string) => require.resolve(`@mediapipe/${spec}`);

const V2 = coral('mobilenet_v2_1.0_224_quant.tflite');
const V1 = coral('mobilenet_v1_0.25_128_quant.tflite');
const TF2 = coral('tf2_mobilenet_v2_1.0_224_ptq.tflite');
const MOVENET = coral('movenet_single_pose_lightning_ptq.tflite');
const LSTM = coral('keras_lstm_mnist_ptq.tflite');
const COMPILED = coral('mobilenet_v1_0.25_128_quant_edgetpu.tflite');
const FACE = mediapipe('face_detection/face_detection_short_range.tflite');
const FLOATS = [
  FACE,
  mediapipe('face_detection/face_detection_full_range.tflite'),
  mediapipe('face_detection/face_detection_full_range_sparse.tflite'),
  mediapipe('hands/hand_landmark_lite.tflite'),
  mediapipe('hands/hand_landmark_full.tflite'),
];
const SELFIE = mediapipe('selfie_segmentation/selfie_segmentation.tflite');
const SELFIE_LANDSCAPE = mediapipe('selfie_segmentation/selfie_segmentation_landscape.tflite');

const COMPILED_LINE =
  /: compiled for the Edge TPU by edgetpu_compiler \(1 edgetpu-custom-op\): only a real Edge TPU runs it, whole; to split, emulate or compile it SwapLess needs its source: give the uncompiled quantized model instead \(the \.tflite that was passed to edgetpu_compiler\) \[SWAPLESS_UNSUPPORTED_MODEL\]$/;
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The first line the user reads: stdout on success, stderr on failure. */
async function firstLine(...argv: string[]): Promise<{ status: number; line: string }> {
  const r = await cli(...argv);
  const text = r.status === 0 ? r.out : r.err;
  return { status: r.status, line: text.split('\n')[0] ?? '' };
}

describe('emulate and compile: each class of model', () => {
  const cases: { model: string; status: number; emulate: RegExp; compile: RegExp }[] = [
    ...(
      [
        [V2, 66],
        [V1, 31],
        [TF2, 68],
      ] as const
    ).map(([model, n]) => ({
      model,
      status: 0,
      emulate: new RegExp(`^${esc(model)}: Edge TPU part ops \\[0,${n}\\) of ${n} on usb3 \\(emulated\\)$`),
      compile: new RegExp(
        `^${esc(model)}: \\d+ variant\\(s\\) of ${n} ops \\(Edge-TPU-mappable prefix: ${n} ops\\); report emulated$`,
      ),
    })),
    {
      model: MOVENET,
      status: 1,
      emulate: new RegExp(
        `^swapless emulate: ${esc(MOVENET)}: nothing of this model maps to the Edge TPU \\(op 0 is CAST\\) \\[SWAPLESS_UNSUPPORTED_MODEL\\]$`,
      ),
      compile: new RegExp(
        `^swapless compile: ${esc(MOVENET)}: nothing of this model maps to the Edge TPU \\(op 0 is CAST\\) \\[SWAPLESS_UNSUPPORTED_MODEL\\]$`,
      ),
    },
    {
      model: COMPILED,
      status: 1,
      emulate: new RegExp(`^swapless emulate: ${esc(COMPILED)}${COMPILED_LINE.source}`),
      compile: new RegExp(`^swapless compile: ${esc(COMPILED)}${COMPILED_LINE.source}`),
    },
    ...[...FLOATS, SELFIE, SELFIE_LANDSCAPE].map((model) => ({
      model,
      status: 1,
      emulate: new RegExp(
        `^swapless emulate: ${esc(model)}: float model: nothing maps to the Edge TPU \\[SWAPLESS_UNSUPPORTED_MODEL\\]$`,
      ),
      compile: new RegExp(
        `^swapless compile: ${esc(model)}: float model: nothing maps to the Edge TPU \\[SWAPLESS_UNSUPPORTED_MODEL\\]$`,
      ),
    })),
  ];

  for (const c of cases) {
    const name = c.model.split('/').at(-1)!;
    it(`${name}: exit ${c.status}`, async () => {
      const e = await firstLine('emulate', c.model);
      expect(e).toEqual({ status: c.status, line: expect.stringMatching(c.emulate) });
      const k = await firstLine('compile', c.model, '--compiler', 'emulator', '--device', 'usb3');
      expect(k).toEqual({ status: c.status, line: expect.stringMatching(c.compile) });
    });
  }

  it('a cut typed on the command line is still a usage error (exit 2), on any model', async () => {
    const r = await cli('emulate', V1, '--cut', '0', '--json');
    expect(r.status).toBe(2);
    expect(JSON.parse(r.out).error.code).toBe('SWAPLESS_INVALID_CUT');
    // …but a compiled model has no cut to choose: exit 1 with the advice, whatever the cut.
    const compiled = await cli('emulate', COMPILED, '--cut', '1', '--json');
    expect(compiled.status).toBe(1);
    expect(JSON.parse(compiled.out).error.code).toBe('SWAPLESS_UNSUPPORTED_MODEL');
  });

  it('co-compiling a model of which nothing maps is exit 1 with the reason, not a usage error', async () => {
    const r = await cli('compile', '--co-compile', `mobilenet_v1,${MOVENET}`, '--compiler', 'emulator');
    expect(r.status).toBe(1);
    expect(r.err.split('\n')[0]).toBe(
      `swapless compile: ${MOVENET}: nothing of this model maps to the Edge TPU (op 0 is CAST) [SWAPLESS_UNSUPPORTED_MODEL]`,
    );
  });
});

describe('demo: each class of model', () => {
  it('refuses a compiled model and a custom op with the reason (exit 1)', async () => {
    expect(await firstLine('demo', '--model', COMPILED, '--repeat', '1')).toEqual({
      status: 1,
      line: expect.stringMatching(new RegExp(`^swapless demo: ${esc(COMPILED)}${COMPILED_LINE.source}`)),
    });
    for (const model of [SELFIE, SELFIE_LANDSCAPE]) {
      expect(await firstLine('demo', '--model', model, '--repeat', '1')).toEqual({
        status: 1,
        line: `swapless demo: ${model}: cannot run here: custom op Convolution2DTransposeBias [SWAPLESS_UNSUPPORTED_MODEL]`,
      });
    }
  });

  it('runs float models (CPU only here: nothing maps) with bit-identical parts', async () => {
    for (const model of FLOATS.filter((m) => !m.includes('sparse'))) {
      const r = await firstLine('demo', '--model', model, '--repeat', '1');
      expect(r).toEqual({ status: 0, line: `SwapLess demo — ${model}` });
    }
  });

  it("runs Coral's quantized models (uint8 as int8 on XNNPACK) and the sparse float model: exit 0", async () => {
    for (const model of [V2, V1, TF2, LSTM, FLOATS[2]!]) {
      const r = await cli('demo', '--model', model, '--repeat', '1', '--json');
      expect(r.status, `${model}: ${r.err}`).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ bitIdentical: true, bitIdenticalOnReferenceKernels: null });
    }
    for (const command of ['emulate', 'compile']) {
      const r = await cli(command, LSTM, '--json');
      expect(r.status, `${command}: ${r.err}`).toBe(0);
    }
  });

  it('movenet: XNNPACK prepares a part but not the whole model, so the check is repeated on the reference kernels: exit 0', async () => {
    const r = await cli('demo', '--model', MOVENET, '--repeat', '1', '--json');
    expect(r.status, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ bitIdentical: false, bitIdenticalOnReferenceKernels: true });
    const text = await cli('demo', '--model', MOVENET, '--repeat', '1');
    expect(text.out).toContain(
      "outputs:   whole vs head → tail: bit-identical on TFLite's reference kernels (the accelerated kernels differ between the whole model and its parts)",
    );
  });
});

async function workload(tenants: { name: string; model: string; rate: number }[], durationS = 2) {
  const path = join(cacheDir(), `w-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, JSON.stringify({ device: 'usb3', cpu: { cores: 2 }, tenants, durationS, seed: 3 }));
  return path;
}
const PROFILING = ['--repetitions', '3', '--max-cuts', '4'];

describe('plan and bench: float models are CPU-only tenants', () => {
  const mixed = () =>
    workload([
      { name: 'face', model: FACE, rate: 30 },
      { name: 'cls', model: 'mobilenet_v1', rate: 30 },
    ]);

  it('plan: the float tenant is CPU-only (cut 0 in every plan, cores chosen), and the output says why', async () => {
    const path = await mixed();
    const r = await cli('plan', path, ...PROFILING, '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.tenants).toEqual([
      { name: 'face', model: FACE, kind: 'cpu-only', reason: 'float model: nothing maps to the Edge TPU' },
      { name: 'cls', model: 'mobilenet_v1', kind: 'partitioned', reason: null },
    ]);
    for (const plan of j.phases[0].plans) {
      if (plan.reason !== null) continue;
      expect(plan.tenants[0]).toMatchObject({ name: 'face', k: 0, n: 90 });
      expect(plan.tenants[0].cores).toBeGreaterThanOrEqual(1);
      expect(plan.simulatedMeanMs).toBeGreaterThan(0);
    }
    const text = await cli('plan', path, ...PROFILING);
    expect(text.out.split('\n')[1]).toBe(
      '  face: CPU-only (float model: nothing maps to the Edge TPU): cut 0 only, planned for CPU cores like the others',
    );
  });

  it('bench (simulated): every policy serves the float tenant on the CPU only', async () => {
    const r = await cli('bench', await mixed(), ...PROFILING, '--cores', '2', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.tenants[0]).toMatchObject({ name: 'face', kind: 'cpu-only' });
    expect(j.policies.map((p: { policy: string }) => p.policy)).toEqual([...POLICY_NAMES]);
    for (const p of j.policies) {
      expect(p.tenants[0].stages.tpuServiceMs).toBe(0);
      expect(p.tenants[0].throughputPerS).toBeGreaterThan(0);
      for (const d of p.decisions) expect(d.choices[0].k).toBe(0);
    }
  });

  it('bench --mode live: the runtime serves the float tenant with no head (short run)', async () => {
    const path = await mixed();
    const r = await cli('bench', path, ...PROFILING, '--mode', 'live', '--policies', 'swapless', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    const face = j.policies[0].tenants[0];
    expect(face.name).toBe('face');
    expect(face.rejected).toBe(0);
    expect(face.throughputPerS).toBeGreaterThan(0);
    expect(face.stages).toMatchObject({ tpuServiceMs: 0, reloadFraction: 0 });
    expect(face.stages.cpuServiceMs).toBeGreaterThan(0);
  });

  it('refuses a custom op and a compiled model by tenant name before profiling anything (exit 1)', async () => {
    const custom = await workload([
      { name: 'face', model: FACE, rate: 5 },
      { name: 'seg', model: SELFIE, rate: 5 },
    ]);
    const compiled = await workload([{ name: 'cls', model: COMPILED, rate: 5 }]);
    // A cache of its own: nothing may be profiled (FACE would be, first, if the refusal came late).
    const shared = process.env.SWAPLESS_CACHE_DIR;
    const own = await mkdtemp(join(tmpdir(), 'swapless-cli-refusal-'));
    process.env.SWAPLESS_CACHE_DIR = own;
    try {
      for (const command of ['plan', 'bench']) {
        expect(await firstLine(command, custom, ...PROFILING)).toEqual({
          status: 1,
          line: `swapless ${command}: tenant "seg": cannot run here: custom op Convolution2DTransposeBias [SWAPLESS_UNSUPPORTED_MODEL]`,
        });
      }
      const r = await firstLine('plan', compiled, ...PROFILING);
      expect(r.status).toBe(1);
      expect(r.line).toMatch(
        /^swapless plan: tenant "cls": compiled for the Edge TPU by edgetpu_compiler \(1 edgetpu-custom-op\): only a real Edge TPU runs it, whole, and the Edge TPU here is emulated: give the uncompiled quantized model instead/,
      );
      expect(existsSync(join(own, 'profiles'))).toBe(false);
    } finally {
      process.env.SWAPLESS_CACHE_DIR = shared;
    }
  });

  it('more CPU-only tenants than cores: exit 1 naming them, before profiling (not a usage error)', async () => {
    const path = join(cacheDir(), 'two-floats.json');
    await writeFile(
      path,
      JSON.stringify({
        cpu: { cores: 1 },
        tenants: [
          { name: 'face', model: FACE, rate: 5 },
          { name: 'hand', model: FLOATS[3], rate: 5 },
        ],
      }),
    );
    for (const command of ['plan', 'bench']) {
      const r = await cli(command, path, '--json');
      expect(r.status).toBe(1);
      expect(JSON.parse(r.out).error).toMatchObject({
        code: 'SWAPLESS_INVALID_CONFIG',
        message:
          '/cpu/cores: Expected at least 2 CPU cores for the tenants that always have a CPU stage (face, hand: not all of their model maps to the Edge TPU) but received 1',
      });
    }
  });

  it('a CPU-only model that is not float says which op stops it, and is planned at cut 0', async () => {
    const path = await workload([{ name: 'pose', model: MOVENET, rate: 5 }]);
    const r = await cli('plan', path, ...PROFILING, '--no-simulate', '--json');
    expect(r.status, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.tenants).toEqual([
      {
        name: 'pose',
        model: MOVENET,
        kind: 'cpu-only',
        reason: 'nothing of this model maps to the Edge TPU (op 0 is CAST)',
      },
    ]);
    const plans = j.phases[0].plans.filter((p: { reason: string | null }) => p.reason === null);
    expect(plans.length).toBeGreaterThan(0);
    for (const plan of plans) {
      expect(plan.tenants[0]).toMatchObject({ name: 'pose', k: 0, n: 157 });
      expect(plan.tenants[0].cores).toBeGreaterThanOrEqual(1);
    }
  });
});
