import { ErrorCodes, isSwapLessError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { readModel } from './reader.js';
import {
  MUTATION_KINDS,
  type MutationKind,
  mapStructure,
  mutate,
  type StructureMap,
} from './testing/mutate.js';
import { coralModels, loadRealModel, mediapipeModels } from './testing/real-models.js';
import { smallModel } from './testing/small-model.js';
import { writeModel } from './writer.js';

const TYPED = new Set<string>([ErrorCodes.INVALID_MODEL, ErrorCodes.UNSUPPORTED_MODEL]);

interface Source {
  name: string;
  bytes: Uint8Array;
  map: StructureMap;
}

interface Outcome {
  read: number;
  rejected: number;
  written: number;
  refused: number;
  byKind: Partial<Record<MutationKind, number>>;
  byRule: Record<string, number>;
}

/**
 * Reads `count` seeded mutants (mutant i of source i mod n, spliced with the next source) and, when a mutant
 * reads, writes it and reads the result back. Any error other than the two typed model errors fails the test
 * with the seed and the mutation, so it can be reproduced.
 */
function fuzz(sources: Source[], count: number, firstSeed: number, readOptions = {}): Outcome {
  const o: Outcome = { read: 0, rejected: 0, written: 0, refused: 0, byKind: {}, byRule: {} };
  for (let i = 0; i < count; i++) {
    const source = sources[i % sources.length]!;
    const other = sources[(i + 1) % sources.length]!;
    const seed = firstSeed + i;
    const mutant = mutate(source.bytes, seed, source.map, { other: other.bytes });
    o.byKind[mutant.kind] = (o.byKind[mutant.kind] ?? 0) + 1;
    const where = `${source.name} seed ${seed} (${mutant.kind}: ${mutant.detail})`;
    let model: ReturnType<typeof readModel>;
    try {
      model = readModel(mutant.bytes, readOptions);
    } catch (e) {
      // Only the two typed model errors are acceptable; a RangeError/TypeError here is a reader bug.
      if (!isSwapLessError(e) || !TYPED.has(e.code))
        throw new Error(`${where}: untyped error ${String(e)}`, { cause: e });
      const rule = (e.details.rule as string | undefined) ?? 'structure';
      o.byRule[rule] = (o.byRule[rule] ?? 0) + 1;
      o.rejected++;
      continue;
    }
    o.read++;
    let written: Uint8Array;
    try {
      written = writeModel(model);
    } catch (e) {
      if (!isSwapLessError(e) || !TYPED.has(e.code)) {
        throw new Error(`${where}: writing the mutant threw untyped ${String(e)}`, { cause: e });
      }
      o.refused++;
      continue;
    }
    // Whatever the writer accepts it must write validly: the output reads back, with the same verdict.
    readModel(written, readOptions);
    o.written++;
  }
  return o;
}

function source(name: string, bytes: Uint8Array): Source {
  return { name, bytes, map: mapStructure(bytes) };
}

describe('fuzzing readModel (structure + semantic verifier) and writeModel with seeded mutants', () => {
  const real = [...coralModels(), ...mediapipeModels()].map((m) => source(m.name, loadRealModel(m)));
  // Mutants of the generated int8 nets (@swapless/int8-builder) are read by that package's format.test.ts.

  it('3,000 mutants of Coral and MediaPipe models: each reads or throws a typed error', () => {
    const o = fuzz(real, 3000, 1);
    expect(o.read + o.rejected).toBe(3000);
    // Every mutator ran, the structural and the semantic checks both fired, and some mutants survived to
    // exercise the writer.
    expect(Object.keys(o.byKind).sort()).toEqual([...MUTATION_KINDS].sort());
    expect(o.byRule.structure).toBeGreaterThan(300);
    for (const rule of ['graph-dataflow', 'op-shape', 'op-type', 'op-options', 'op-optional-input']) {
      expect(o.byRule[rule], rule).toBeGreaterThan(5);
    }
    expect(o.written).toBeGreaterThan(300);
  });

  it('600 structural mutants of the small model (read without the op verifier: the model is odd on purpose)', () => {
    const o = fuzz([source('small', writeModel(smallModel()))], 600, 10_001, { verifySemantics: false });
    expect(o.read + o.rejected).toBe(600);
    expect(o.rejected).toBeGreaterThan(150);
    expect(o.written).toBeGreaterThan(20);
  });

  it('unaimed mutants (byte-level only) of the full-range face model', () => {
    const bytes = loadRealModel(mediapipeModels().find((m) => m.name.endsWith('face_detection_full_range'))!);
    for (let seed = 50_000; seed < 50_150; seed++) {
      const mutant = mutate(bytes, seed);
      try {
        readModel(mutant.bytes);
      } catch (e) {
        expect(isSwapLessError(e) && TYPED.has(e.code), `seed ${seed}: ${mutant.detail}`).toBe(true);
      }
    }
  });
});
