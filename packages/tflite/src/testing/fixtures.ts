/**
 * Real models used by the tests (internal: not exported from the package index). They come from the
 * `@mediapipe/face_detection` devDependency (Apache-2.0), resolved through Node so the tests do not depend
 * on the monorepo's directory layout.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The file names of the face detection models in the package. */
export type FaceModelName =
  | 'face_detection_short_range.tflite'
  | 'face_detection_full_range.tflite'
  | 'face_detection_full_range_sparse.tflite';

/** Absolute path of one of the face detection models. */
export function faceModelPath(name: FaceModelName): string {
  return require.resolve(`@mediapipe/face_detection/${name}`);
}

/** The bytes of one of the face detection models, as a fresh Uint8Array. */
export function loadFaceModel(name: FaceModelName): Uint8Array {
  return new Uint8Array(readFileSync(faceModelPath(name)));
}
