// Test-only: every real model the format tests run against (Coral's test models committed under fixtures/, and
// MediaPipe's models from their npm packages). Not exported by the package.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** One real model file and what the TFLite runtime here can do with it. */
export interface RealModel {
  name: string;
  path: string;
  /** The CPU runtime here can run it (no unresolved custom op, not Edge TPU compiled). */
  runs: boolean;
  /** It also runs with XNNPACK on the runtime of this branch (Coral's uint8 models fail to prepare there). */
  xnnpack: boolean;
}

function coral(file: string, runs: boolean, xnnpack: boolean): RealModel {
  const path = fileURLToPath(new URL(`../../../fixtures/models/coral/${file}`, import.meta.url));
  return { name: `coral/${file}`, path, runs, xnnpack };
}

function mediapipe(spec: string, runs: boolean): RealModel {
  return { name: spec.replace('@mediapipe/', ''), path: require.resolve(spec), runs, xnnpack: runs };
}

/** Every Coral fixture and every MediaPipe model the project uses. */
export const REAL_MODELS: readonly RealModel[] = [
  coral('mobilenet_v1_0.25_128_quant.tflite', true, false),
  coral('mobilenet_v2_1.0_224_quant.tflite', true, false),
  coral('tf2_mobilenet_v2_1.0_224_ptq.tflite', true, true),
  coral('movenet_single_pose_lightning_ptq.tflite', true, false),
  coral('keras_lstm_mnist_ptq.tflite', true, true),
  coral('mobilenet_v1_0.25_128_quant_edgetpu.tflite', false, false),
  mediapipe('@mediapipe/face_detection/face_detection_short_range.tflite', true),
  mediapipe('@mediapipe/face_detection/face_detection_full_range.tflite', true),
  mediapipe('@mediapipe/face_detection/face_detection_full_range_sparse.tflite', true),
  mediapipe('@mediapipe/hands/hand_landmark_lite.tflite', true),
  mediapipe('@mediapipe/hands/hand_landmark_full.tflite', true),
  mediapipe('@mediapipe/selfie_segmentation/selfie_segmentation.tflite', false),
  mediapipe('@mediapipe/selfie_segmentation/selfie_segmentation_landscape.tflite', false),
];

/** The model of that name (as in {@link REAL_MODELS}); throws for an unknown name. */
export function realModel(name: string): RealModel {
  const m = REAL_MODELS.find((r) => r.name === name);
  if (m === undefined) throw new Error(`no real model named ${name}`);
  return m;
}

/** The bytes of a real model, as a fresh Uint8Array. */
export function loadReal(model: RealModel): Uint8Array {
  return new Uint8Array(readFileSync(model.path));
}
