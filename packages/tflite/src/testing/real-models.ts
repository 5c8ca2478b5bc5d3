/**
 * Every real model the tests of this package can reach (internal: not exported, not even from
 * `@swapless/tflite/testing`, because the Coral files are found relative to this source file): Coral's test
 * models and their damaged copies committed under fixtures/models, and MediaPipe's float models from the
 * dev dependencies. The verifier must accept every real one and reject every hostile one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const fixtures = fileURLToPath(new URL('../../../../fixtures/models/', import.meta.url));

/** A model file by a short name (`coral/mobilenet_v2_1.0_224_quant`). */
export interface RealModel {
  readonly name: string;
  readonly path: string;
}

function listDir(dir: string, prefix: string): RealModel[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.tflite'))
    .sort()
    .map((f) => ({ name: `${prefix}/${basename(f, '.tflite')}`, path: join(dir, f) }));
}

/** Coral's real models (fixtures/models/coral), the Edge TPU compiled one included. */
export function coralModels(): RealModel[] {
  return listDir(join(fixtures, 'coral'), 'coral');
}

/** The damaged copies of Coral's models that crashed TFLite 2.9 (fixtures/models/hostile). */
export function hostileModels(): RealModel[] {
  return listDir(join(fixtures, 'hostile'), 'hostile');
}

/** MediaPipe's models from @mediapipe/face_detection, @mediapipe/hands and @mediapipe/selfie_segmentation. */
export function mediapipeModels(): RealModel[] {
  return ['@mediapipe/face_detection', '@mediapipe/hands', '@mediapipe/selfie_segmentation'].flatMap((pkg) =>
    listDir(dirname(require.resolve(`${pkg}/package.json`)), 'mediapipe'),
  );
}

/** The bytes of a model, as a fresh Uint8Array. */
export function loadRealModel(model: RealModel): Uint8Array {
  return new Uint8Array(readFileSync(model.path));
}
