// The one generator of seeded inputs: its ranges per tensor type, pinned to SeededRandom's stream.
import { SeededRandom } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { seededInput, seededInputs, type TensorInfo, zeroInput } from './index.js';

function info(
  type: string,
  arrayType: TensorInfo['arrayType'],
  length: number,
  bytesPer: number,
): TensorInfo {
  return {
    name: type.toLowerCase(),
    type,
    shape: [length],
    byteSize: length * bytesPer,
    arrayType,
    quantization: null,
  };
}

const N = 4096;

/** The values `SeededRandom.int(lo, hi)` (inclusive bounds) draws from a fresh stream of `seed`. */
function ints(seed: number, lo: number, hi: number): number[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: N }, () => rng.int(lo, hi));
}

/** A float16 from its bits. */
function half(bits: number): number {
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  return exp === 0 ? sign * 2 ** -14 * (frac / 1024) : sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

describe('seededInput', () => {
  it('draws int8 and uint8 data over their whole range, no wider (no value wraps around)', () => {
    expect([...(seededInput(info('INT8', 'Int8Array', N, 1), new SeededRandom(5)) as Int8Array)]).toEqual(
      ints(5, -128, 127),
    );
    expect([...(seededInput(info('UINT8', 'Uint8Array', N, 1), new SeededRandom(5)) as Uint8Array)]).toEqual(
      ints(5, 0, 255),
    );
  });

  it('gives booleans 0 or 1 and other integers small non-negative values (indices, lengths)', () => {
    expect([...(seededInput(info('BOOL', 'Uint8Array', N, 1), new SeededRandom(2)) as Uint8Array)]).toEqual(
      ints(2, 0, 1),
    );
    expect([...(seededInput(info('INT32', 'Int32Array', N, 4), new SeededRandom(2)) as Int32Array)]).toEqual(
      ints(2, 0, 7),
    );
    const big = seededInput(info('INT64', 'BigInt64Array', N, 8), new SeededRandom(2)) as BigInt64Array;
    expect([...big].map(Number)).toEqual(ints(2, 0, 7));
  });

  it('gives floats (float16 as raw bits) in [−1, 1), both signs', () => {
    const f = seededInput(info('FLOAT32', 'Float32Array', N, 4), new SeededRandom(9)) as Float32Array;
    const h = seededInput(info('FLOAT16', 'Uint16Array', N, 2), new SeededRandom(9)) as Uint16Array;
    for (const values of [[...f], [...h].map(half)]) {
      expect(Math.min(...values)).toBeGreaterThanOrEqual(-1);
      expect(Math.min(...values)).toBeLessThan(-0.9);
      expect(Math.max(...values)).toBeLessThan(1);
      expect(Math.max(...values)).toBeGreaterThan(0.9);
    }
  });

  it('is null for a type no typed array carries, and zeroInput gives zeros of the right size', () => {
    expect(seededInput(info('STRING', null, 4, 1), new SeededRandom(1))).toBeNull();
    expect(zeroInput(info('STRING', null, 4, 1))).toBeNull();
    expect(zeroInput(info('FLOAT32', 'Float32Array', 6, 4))).toEqual(new Float32Array(6));
  });
});

describe('seededInputs', () => {
  it('are the same for a seed, and differ for another seed', () => {
    const infos = [info('FLOAT32', 'Float32Array', 64, 4), info('UINT8', 'Uint8Array', 64, 1)];
    expect(seededInputs(infos, 1)).toEqual(seededInputs(infos, 1));
    expect(seededInputs(infos, 1)[1]).not.toEqual(seededInputs(infos, 2)[1]);
    // One stream across tensors: the second tensor continues where the first stopped.
    const rng = new SeededRandom(1);
    expect(seededInputs(infos, 1)).toEqual(infos.map((t) => seededInput(t, rng)));
  });
});
