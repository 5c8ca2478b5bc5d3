/**
 * Every real model the tests of this package can reach (internal: not exported, not even from
 * `@swapless/tflite/testing`, because the Coral files live in the repository, not in the package): Coral's test
 * models and their damaged copies committed under fixtures/models (listed by the repository's one fixture
 * listing, tools/test-fixtures.mjs), and MediaPipe's float models from the dev dependencies. The verifier must
 * accept every real one and reject every hostile one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fixtureModels } from '../../../../tools/test-fixtures.mjs';

const require = createRequire(import.meta.url);

/** A model file by a short name (`coral/mobilenet_v2_1.0_224_quant`, `mediapipe/hand_landmark_lite`). */
export interface RealModel {
  readonly name: string;
  readonly path: string;
  /** The TFLite CPU runtime here can run it (no unresolved custom op, not Edge TPU compiled). */
  readonly runs: boolean;
  /**
   * It also runs with XNNPACK on the raw runtime (the native binding as these tests use it, with no int8
   * rewrite): XNNPACK refuses to prepare Coral's classic uint8 models and movenet.
   */
  readonly xnnpack: boolean;
}

/** Models the CPU runtime here cannot run: Edge TPU code, and MediaPipe's Convolution2DTransposeBias. */
const NOT_CPU: ReadonlySet<string> = new Set([
  'coral/mobilenet_v1_0.25_128_quant_edgetpu',
  'mediapipe/selfie_segmentation',
  'mediapipe/selfie_segmentation_landscape',
]);

/** Models XNNPACK fails to prepare without the int8 rewrite (uint8 compute). */
const NO_RAW_XNNPACK: ReadonlySet<string> = new Set([
  'coral/mobilenet_v1_0.25_128_quant',
  'coral/mobilenet_v2_1.0_224_quant',
  'coral/movenet_single_pose_lightning_ptq',
]);

function withFacts(m: { name: string; path: string }): RealModel {
  const runs = !NOT_CPU.has(m.name);
  return { name: m.name, path: m.path, runs, xnnpack: runs && !NO_RAW_XNNPACK.has(m.name) };
}

/** Coral's real models (fixtures/models/coral), the Edge TPU compiled one included. */
export function coralModels(): RealModel[] {
  return fixtureModels('coral').map(withFacts);
}

/** The damaged copies of Coral's models that crashed TFLite 2.9 (fixtures/models/hostile). */
export function hostileModels(): RealModel[] {
  return fixtureModels('hostile').map((m) => ({ ...m, runs: false, xnnpack: false }));
}

/** MediaPipe's models from @mediapipe/face_detection, @mediapipe/hands and @mediapipe/selfie_segmentation. */
export function mediapipeModels(): RealModel[] {
  return ['@mediapipe/face_detection', '@mediapipe/hands', '@mediapipe/selfie_segmentation'].flatMap(
    (pkg) => {
      const dir = dirname(require.resolve(`${pkg}/package.json`));
      return readdirSync(dir)
        .filter((f) => f.endsWith('.tflite'))
        .sort()
        .map((f) => withFacts({ name: `mediapipe/${basename(f, '.tflite')}`, path: join(dir, f) }));
    },
  );
}

/** Every real (not hostile) model: Coral's, then MediaPipe's. */
export const REAL_MODELS: readonly RealModel[] = [...coralModels(), ...mediapipeModels()];

/** The real model of that name (as in {@link REAL_MODELS}); throws for an unknown name. */
export function realModel(name: string): RealModel {
  const m = REAL_MODELS.find((r) => r.name === name);
  if (m === undefined) throw new Error(`no real model named ${name}`);
  return m;
}

/** The bytes of a model, as a fresh Uint8Array. */
export function loadRealModel(model: RealModel): Uint8Array {
  return new Uint8Array(readFileSync(model.path));
}
