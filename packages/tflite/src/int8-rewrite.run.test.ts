// The int8 rewrite on the real TFLite runtime: XNNPACK takes every rewritten op, results stay within a few output
// LSBs of the uint8 original on TFLite's reference kernels, and the rewrite commutes with splitting, bit-exactly,
// on Coral's real uint8 models. A small fixed-seed sample; `npm run bench:uint8` measures on ≥ 100 inputs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { int8CutMap, rewriteToInt8 } from './int8-rewrite.js';
import { singleOpModels, uint8Net } from './int8-rewrite.test-util.js';
import type { TfliteModel } from './model.js';
import { readModel } from './reader.js';
import { type SplitBoundary, splitModel } from './split.js';
import { makeInputs, rawBytes, runByName, runChained } from './split.test-util.js';
import { openInterpreter, type TensorArray, withInterpreter } from './testing/native.test-util.js';
import { writeModel } from './writer.js';

const coral = (name: string): Uint8Array =>
  new Uint8Array(
    readFileSync(fileURLToPath(new URL(`../../../fixtures/models/coral/${name}`, import.meta.url))),
  );

/** Largest |a − b| over two integer output arrays, and the share of equal elements. */
function compare(a: TensorArray, b: TensorArray): { maxDiff: number; identical: number } {
  const x = a as unknown as ArrayLike<number>;
  const y = b as unknown as ArrayLike<number>;
  let maxDiff = 0;
  let same = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i]! - y[i]!);
    if (d > maxDiff) maxDiff = d;
    if (d === 0) same++;
  }
  return { maxDiff, identical: same / x.length };
}

function argmax(a: TensorArray): number {
  const x = a as unknown as ArrayLike<number>;
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/** Runs uint8 `bytes` on reference kernels and their rewrite on XNNPACK on `seeds` inputs. */
function sideBySide(bytes: Uint8Array, seeds: readonly number[]) {
  const rewritten = writeModel(rewriteToInt8(readModel(bytes)).model);
  return seeds.map((seed) => {
    const inputs = makeInputs(bytes, seed);
    const reference = runByName(bytes, inputs, { xnnpack: false });
    const fast = runByName(rewritten, inputs, { xnnpack: true });
    return reference.map((r, i) => ({ name: r.name, reference: r.data, fast: fast[i]!.data }));
  });
}

describe("XNNPACK's unsigned path in this TFLite build, op by op", () => {
  for (const [type, model] of Object.entries(singleOpModels())) {
    it(`refuses a uint8 ${type}, and runs its int8 rewrite within 2 output LSBs`, () => {
      const bytes = writeModel(model);
      expect(() => openInterpreter(bytes, { xnnpack: true })).toThrow(`failed to delegate ${type} node #0`);
      const rewritten = writeModel(rewriteToInt8(model).model);
      expect(withInterpreter(rewritten, { xnnpack: true }, (fast) => fast.xnnpack)).toBe(true);
      for (const run of sideBySide(bytes, [1, 2])) {
        expect(compare(run[0]!.reference, run[0]!.fast).maxDiff).toBeLessThanOrEqual(2);
      }
    });
  }
});

describe('the rewritten ops on XNNPACK', () => {
  it('run every rule of the uint8 network within 2 output LSBs of the uint8 original', () => {
    const bytes = writeModel(uint8Net());
    const rewritten = writeModel(rewriteToInt8(uint8Net()).model);
    // XNNPACK prepared the whole rewrite (creation throws when any delegated op fails to prepare).
    expect(withInterpreter(rewritten, { xnnpack: true }, (it) => it.xnnpack)).toBe(true);
    for (const run of sideBySide(bytes, [1, 2, 3])) {
      for (const { name, reference, fast } of run) {
        expect(compare(reference, fast).maxDiff, name).toBeLessThanOrEqual(2);
      }
    }
  });
});

describe("Coral's mobilenet_v1_0.25_128_quant, rewritten", () => {
  const bytes = coral('mobilenet_v1_0.25_128_quant.tflite');

  it('agrees with the uint8 original on the top-1 class of 4 seeded inputs', () => {
    const runs = sideBySide(bytes, [11, 12, 13, 14]);
    for (const [first] of runs) {
      const { reference, fast } = first!;
      expect(argmax(fast)).toBe(argmax(reference));
      const { maxDiff, identical } = compare(reference, fast);
      expect(maxDiff).toBeLessThanOrEqual(16);
      expect(identical).toBeGreaterThan(0.95);
    }
  });
});

/**
 * (a) The rewritten model split at mapped cuts (and at a cut between a conversion and its op) chains bit-exactly
 * with the unsplit rewritten model; (b) the rewrites of the two parts of a split of the original chain
 * bit-exactly with it too.
 */
function expectChaining(bytes: Uint8Array, cuts: readonly number[]): void {
  const original = readModel(bytes);
  const result = rewriteToInt8(original);
  const whole = writeModel(result.model);
  const map = int8CutMap(original, result);
  const inputs = makeInputs(bytes, 7);
  const expected = runByName(whole, inputs, { xnnpack: true }).map((o) => Buffer.from(rawBytes(o.data)));
  const check = (label: string, outputs: TensorArray[]) => {
    expect(
      outputs.map((o) => Buffer.from(rawBytes(o))),
      label,
    ).toEqual(expected);
  };
  for (const k of cuts) {
    const rewrittenSplit = splitModel(result.model, map[k]!);
    check(`(a) k=${k} → ${map[k]}`, runChained(bytesOf(rewrittenSplit), inputs, { xnnpack: true }));
    const parts = splitModel(original, k);
    const rewrittenParts = {
      head: parts.head === null ? null : rewriteToInt8(parts.head).model,
      tail: parts.tail === null ? null : rewriteToInt8(parts.tail).model,
      boundary: parts.boundary,
    };
    check(`(b) k=${k}`, runChained(bytesOf(rewrittenParts), inputs, { xnnpack: true }));
  }
  // A cut inside a group: between the input conversion and the first conv (every op of these models is a compute
  // op, so op indices are cut positions).
  const origin = result.report.origin;
  const inside = origin.findIndex((o, i) => i > 0 && origin[i - 1] === o);
  expect(inside).toBeGreaterThan(0);
  check(
    `(a) inside a group at ${inside}`,
    runChained(bytesOf(splitModel(result.model, inside)), inputs, { xnnpack: true }),
  );
}

function bytesOf(split: { head: TfliteModel | null; tail: TfliteModel | null; boundary: SplitBoundary }) {
  return {
    head: split.head === null ? null : writeModel(split.head),
    tail: split.tail === null ? null : writeModel(split.tail),
    boundary: split.boundary,
  };
}

describe('the rewrite commutes with splitting, bit-exactly, on the real runtime', () => {
  it("on Coral's mobilenet_v2_1.0_224_quant at 5 cuts", () => {
    // Inside the first block, mid-network across a residual ADD, and around the kept AVERAGE_POOL_2D.
    expectChaining(coral('mobilenet_v2_1.0_224_quant.tflite'), [1, 20, 33, 63, 64]);
  });

  it("on Coral's mobilenet_v1_0.25_128_quant at 4 cuts", () => {
    expectChaining(coral('mobilenet_v1_0.25_128_quant.tflite'), [3, 14, 28, 30]);
  });
});
