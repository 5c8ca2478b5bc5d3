/**
 * Seeded input data for a model's tensors: one generator for everything SwapLess feeds a model it knows nothing
 * about (the CLI's run, demo and split --verify, the vetting child, the profiler), so a seed means the same
 * inputs everywhere.
 */
import type { TensorArray } from '@swapless/contracts';
import { SeededRandom } from '@swapless/core';
import { type TensorInfo, TYPED_ARRAYS } from './interpreter.js';

type ArrayCtor = new (length: number) => TensorArray;
const CTORS = TYPED_ARRAYS as unknown as Readonly<Record<string, ArrayCtor>>;

/** Largest value given to integer tensors that are not 8-bit data (they are often indices, lengths or shapes). */
const SMALL_MAX = 7;

/** IEEE half-precision bits of a float in [−1, 1) (truncated; subnormals flush to zero, which test data can afford). */
function halfBits(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return sign;
  return sign | (exp << 10) | ((u >>> 13) & 0x3ff);
}

/** A zero-filled array of the tensor's own type and size, or null for a type no typed array carries (strings…). */
export function zeroInput(info: TensorInfo): TensorArray | null {
  const Ctor = info.arrayType === null ? undefined : CTORS[info.arrayType];
  if (Ctor === undefined) return null;
  const size = (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  return new Ctor(info.byteSize / size);
}

/**
 * Seeded data for one input tensor, drawn from `rng`, in ranges every model accepts: floats (float16 too, as its
 * raw bits) uniform in [−1, 1) like a normalised image; int8 and uint8 over their whole range (quantized data);
 * booleans 0 or 1; every other integer type small and non-negative, 0..7 (such tensors are often indices, lengths
 * or shapes). Null for a type no typed array carries (strings…): the caller decides whether that is an error.
 */
export function seededInput(info: TensorInfo, rng: SeededRandom): TensorArray | null {
  const out = zeroInput(info);
  if (out === null) return null;
  const a = out as unknown as { [i: number]: number | bigint; length: number };
  const n = a.length;
  switch (info.type) {
    case 'FLOAT32':
    case 'FLOAT64':
      for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
      break;
    case 'FLOAT16':
      for (let i = 0; i < n; i++) a[i] = halfBits(rng.uniform(-1, 1));
      break;
    case 'INT8':
      for (let i = 0; i < n; i++) a[i] = rng.int(-128, 127);
      break;
    case 'UINT8':
      for (let i = 0; i < n; i++) a[i] = rng.int(0, 255);
      break;
    case 'BOOL':
      for (let i = 0; i < n; i++) a[i] = rng.int(0, 1);
      break;
    default: {
      const big = info.arrayType === 'BigInt64Array' || info.arrayType === 'BigUint64Array';
      for (let i = 0; i < n; i++) {
        const v = rng.int(0, SMALL_MAX);
        a[i] = big ? BigInt(v) : v;
      }
    }
  }
  return out;
}

/**
 * One seeded array per tensor, in order, from a single stream seeded with `seed`: the same seed gives the same
 * inputs on every machine and in every SwapLess command. Null entries are tensors of a type no typed array carries.
 */
export function seededInputs(infos: readonly TensorInfo[], seed: number): (TensorArray | null)[] {
  const rng = new SeededRandom(seed);
  return infos.map((info) => seededInput(info, rng));
}
