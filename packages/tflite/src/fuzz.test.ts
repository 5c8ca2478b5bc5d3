import { ErrorCodes, isSwapLessError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { readModel } from './reader.js';
import { loadFaceModel } from './testing/fixtures.js';
import { type MutationKind, mapStructure, mutate } from './testing/mutate.js';
import { smallModel } from './testing/small-model.js';
import { writeModel } from './writer.js';

const TYPED = new Set<string>([ErrorCodes.INVALID_MODEL, ErrorCodes.UNSUPPORTED_MODEL]);

interface Outcome {
  read: number;
  rejected: number;
  written: number;
  refused: number;
  byKind: Partial<Record<MutationKind, number>>;
}

/** Runs `count` seeded mutants of `bytes` through readModel (and writeModel when the read succeeds). */
function fuzz(bytes: Uint8Array, count: number, firstSeed: number): Outcome {
  const structure = mapStructure(bytes);
  const outcome: Outcome = { read: 0, rejected: 0, written: 0, refused: 0, byKind: {} };
  for (let seed = firstSeed; seed < firstSeed + count; seed++) {
    const mutant = mutate(bytes, seed, structure);
    outcome.byKind[mutant.kind] = (outcome.byKind[mutant.kind] ?? 0) + 1;
    const where = `seed ${seed} (${mutant.kind} at ${mutant.position})`;
    let model: ReturnType<typeof readModel>;
    try {
      model = readModel(mutant.bytes);
    } catch (e) {
      // Only the two typed model errors are acceptable; a RangeError/TypeError here is a reader bug.
      if (!isSwapLessError(e) || !TYPED.has(e.code))
        throw new Error(`${where}: untyped error ${String(e)}`, { cause: e });
      outcome.rejected++;
      continue;
    }
    outcome.read++;
    let written: Uint8Array;
    try {
      written = writeModel(model);
    } catch (e) {
      if (!isSwapLessError(e) || !TYPED.has(e.code)) {
        throw new Error(`${where}: writing the mutant threw untyped ${String(e)}`, { cause: e });
      }
      outcome.refused++;
      continue;
    }
    // Whatever the writer accepts it must write validly: the output reads back without any error.
    readModel(written);
    outcome.written++;
  }
  return outcome;
}

describe('fuzzing readModel and writeModel with seeded mutants', () => {
  it('600 mutants of the real face model: every one reads or throws a typed error', () => {
    const o = fuzz(loadFaceModel('face_detection_short_range.tflite'), 600, 1);
    expect(o.read + o.rejected).toBe(600);
    // The aimed mutations must actually exercise the verifier, and some must survive to exercise the writer.
    expect(o.rejected).toBeGreaterThan(150);
    expect(o.written).toBeGreaterThan(50);
    expect(Object.keys(o.byKind).length).toBe(9);
  });

  it('600 mutants of the small model: every one reads or throws a typed error', () => {
    const o = fuzz(writeModel(smallModel()), 600, 10_001);
    expect(o.read + o.rejected).toBe(600);
    expect(o.rejected).toBeGreaterThan(150);
    expect(o.written).toBeGreaterThan(20);
  });

  it('unaimed mutants (truncation, random bytes, bit flips) of the full-range model', () => {
    const bytes = loadFaceModel('face_detection_full_range.tflite');
    for (let seed = 50_000; seed < 50_150; seed++) {
      const mutant = mutate(bytes, seed);
      try {
        readModel(mutant.bytes);
      } catch (e) {
        expect(isSwapLessError(e) && TYPED.has(e.code), `seed ${seed}`).toBe(true);
      }
    }
  });
});
