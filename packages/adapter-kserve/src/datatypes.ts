/**
 * KServe v2 datatypes and the typed arrays that carry them. FP16 travels as raw IEEE half bits in a Uint16Array
 * (as in @swapless/edgetpu) and BOOL as one byte per element (0 or 1), which is also the binary extension's wire
 * format, so a binary tensor is the typed array's bytes (little-endian) and nothing else.
 */
import { DATATYPES, type Datatype, type NumericDatatype, type TensorArray } from '@swapless/contracts';
import { inferenceDatatype } from '@swapless/tflite';

/** Every datatype the Open Inference Protocol names (`DATATYPES` of `@swapless/contracts`). */
export const KSERVE_DATATYPES = DATATYPES;

/** A datatype of the Open Inference Protocol (`Datatype` of `@swapless/contracts`). */
export type KServeDatatype = Datatype;

/** A constructor of one of the {@link TensorArray} classes. */
export type TensorArrayConstructor = {
  new (length: number): TensorArray;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TensorArray;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

const ARRAYS: Record<NumericDatatype, TensorArrayConstructor> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

/** True for the datatypes SwapLess can exchange. */
export function isNumericDatatype(value: unknown): value is NumericDatatype {
  return typeof value === 'string' && Object.hasOwn(ARRAYS, value);
}

/** The typed array class of a datatype (FP16 → Uint16Array of half bits, BOOL → Uint8Array of 0/1). */
export function arrayTypeOf(datatype: NumericDatatype): TensorArrayConstructor {
  return ARRAYS[datatype];
}

/**
 * The KServe datatype of a TFLite tensor type name (`FLOAT32` → `FP32`, `INT8` → `INT8`, …), or undefined for
 * types the protocol cannot carry as numbers (STRING, COMPLEX64, …). For backends that describe models from
 * `@swapless/edgetpu`'s `TensorInfo.type`.
 */
export function datatypeFromTflite(type: string): NumericDatatype | undefined {
  return inferenceDatatype(type);
}

/** Product of a shape's dimensions (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

// Half-precision conversion through a shared float32 view of one word.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of a number, rounded to nearest even (overflow → ±Infinity, NaN kept). */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa with its implicit bit into place, rounding to nearest even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && (half & 1) === 1) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1) ? 1 : 0));
}

/** The number an IEEE binary16 bit pattern stands for. */
export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
