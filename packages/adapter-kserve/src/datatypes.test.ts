import { describe, expect, it } from 'vitest';
import { jsonElements } from './codec.js';
import {
  arrayTypeOf,
  datatypeFromTflite,
  elementCount,
  fromHalfBits,
  isNumericDatatype,
  KSERVE_DATATYPES,
  toHalfBits,
} from './datatypes.js';

describe('datatypes', () => {
  it('maps every numeric datatype to its typed array, and TFLite type names to datatypes', () => {
    expect(KSERVE_DATATYPES.filter(isNumericDatatype)).toHaveLength(12);
    expect(isNumericDatatype('BYTES')).toBe(false);
    expect(isNumericDatatype('toString')).toBe(false);
    expect(arrayTypeOf('FP16')).toBe(Uint16Array);
    expect(arrayTypeOf('BOOL')).toBe(Uint8Array);
    expect(arrayTypeOf('INT64')).toBe(BigInt64Array);
    expect(datatypeFromTflite('FLOAT32')).toBe('FP32');
    expect(datatypeFromTflite('FLOAT16')).toBe('FP16');
    expect(datatypeFromTflite('INT8')).toBe('INT8');
    expect(datatypeFromTflite('STRING')).toBeUndefined();
    expect(elementCount([1, 224, 224, 3])).toBe(150528);
    expect(elementCount([])).toBe(1);
  });

  it('converts half precision both ways with round-to-nearest-even', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff], // largest half
      [65520, 0x7c00], // rounds up to Infinity
      [1e6, 0x7c00],
      [Number.NEGATIVE_INFINITY, 0xfc00],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // tie → even (0)
      [3 * 2 ** -25, 0x0002], // tie → even (2)
      [1 + 2 ** -11, 0x3c00], // tie → even
      [1 + 3 * 2 ** -11, 0x3c02], // tie → even (up)
      [0.1, 0x2e66],
    ];
    for (const [value, bits] of cases) expect([value, toHalfBits(value)]).toEqual([value, bits]);
    expect(toHalfBits(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(Number.isNaN(fromHalfBits(toHalfBits(Number.NaN)))).toBe(true);
    for (const [value, bits] of cases.slice(0, 7)) {
      if (Math.abs(value) <= 65504) expect(fromHalfBits(bits)).toBe(value);
    }
    expect(fromHalfBits(0x0001)).toBe(2 ** -24);
    expect(fromHalfBits(0x7c00)).toBe(Number.POSITIVE_INFINITY);
    // Every finite half survives a round trip through a number.
    for (let b = 0; b < 0x10000; b++) {
      if ((b & 0x7c00) === 0x7c00) continue;
      if (toHalfBits(fromHalfBits(b)) !== b) throw new Error(`half ${b.toString(16)} does not round-trip`);
    }
  });

  it('writes JSON elements: numbers, bigints, booleans, halves, non-finite floats as null', () => {
    expect(jsonElements(Float32Array.from([1.5, -2, 0.25]), 'FP32')).toBe('1.5,-2,0.25');
    expect(JSON.parse(`[${jsonElements(Float32Array.from([0.1]), 'FP32')}]`)[0]).toBe(Math.fround(0.1));
    expect(jsonElements(Float64Array.from([1, Number.NaN, Number.NEGATIVE_INFINITY]), 'FP64')).toBe(
      '1,null,null',
    );
    expect(jsonElements(BigInt64Array.from([1n, -9007199254740993n]), 'INT64')).toBe('1,-9007199254740993');
    expect(jsonElements(Uint8Array.from([1, 0, 1]), 'BOOL')).toBe('true,false,true');
    expect(jsonElements(Uint16Array.from([0x3c00, 0xc000]), 'FP16')).toBe('1,-2');
    expect(jsonElements(new Int8Array(0), 'INT8')).toBe('');
  });
});
