// The tiny models of the tests and the native benchmark: y = x + c with x, y float32 [1, n] and the constant
// c = 1, 2, …, n, so invoke costs almost nothing (the bench measures the N-API round trip) and outputs are easy
// to check. The files are made by @swapless/tflite's writer: `node tools/gen-native-fixtures.mjs` regenerates them.
import { readFileSync } from 'node:fs';

const SIZES = [2, 4, 4096];

/** Bytes of the tiny ADD model for n ∈ {2, 4, 4096}. */
export function tinyAddModel(n = 4) {
  if (!SIZES.includes(n))
    throw new RangeError(`tiny-add fixtures exist for n in ${SIZES.join(', ')}, not ${n}`);
  return new Uint8Array(readFileSync(new URL(`./fixtures/tiny-add-${n}.tflite`, import.meta.url)));
}
