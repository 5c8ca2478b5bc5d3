// Shared test inputs: the real MediaPipe face model, the hand-encoded tiny model, and deterministic data.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export { tinyAddModel } from '../../../native/tflite-addon/test/tiny-model.mjs';

const mediapipe = dirname(createRequire(import.meta.url).resolve('@mediapipe/face_detection/package.json'));

/** float32 [1,128,128,3] → [1,896,16], [1,896,1]; ~1 ms per invoke with XNNPACK. */
export const FACE_SHORT = join(mediapipe, 'face_detection_short_range.tflite');
/** The larger sibling (1.08 MB). */
export const FACE_FULL = join(mediapipe, 'face_detection_full_range.tflite');

/** Deterministic pseudo-random floats in [0, 1) (an LCG, so runs and machines agree). */
export function pseudoRandom(length: number, seed = 1): Float32Array {
  const out = new Float32Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i += 1) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

/** Largest |a − b| / max(1, |b|) over two arrays of the same length. */
export function maxRelativeDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i += 1) {
    const d = Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!));
    if (d > worst) worst = d;
  }
  return worst;
}
