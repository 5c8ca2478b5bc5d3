// @swapless/tflite's format code on the generated nets: the verifier accepts them and both parts of every cut,
// a generated net with a broken option is refused, seeded mutants read or throw a typed error, and runnability
// finds nothing to object to. These checks lived in @swapless/tflite's verify, fuzz and runnability tests
// before the generator left that package (its tests now use real models and hand-made graphs).
import { ErrorCodes, InvalidModelError, isSwapLessError } from '@swapless/core';
import {
  cutPoints,
  readModel,
  runnability,
  splitModel,
  type TfliteModel,
  verifyModel,
  writeModel,
} from '@swapless/tflite';
import { MUTATION_KINDS, mapStructure, mutate } from '@swapless/tflite/testing';
import { describe, expect, it } from 'vitest';
import { buildTestNet, tinyModel } from './builder.js';

const TYPED = new Set<string>([ErrorCodes.INVALID_MODEL, ErrorCodes.UNSUPPORTED_MODEL]);

/** True for the two typed model errors: anything else (RangeError, TypeError…) is a reader or writer bug. */
const typedModelError = (e: unknown): boolean => isSwapLessError(e) && TYPED.has(e.code);

/** The `details.rule` of the InvalidModelError `verifyModel(model)` throws, or undefined when it accepts it. */
function refusedRule(model: TfliteModel): unknown {
  try {
    verifyModel(model);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidModelError);
    return (e as InvalidModelError).details.rule;
  }
  return undefined;
}

describe('the format package on generated models', () => {
  it("the verifier accepts the builder's nets", () => {
    for (const model of [buildTestNet(0), tinyModel(), tinyModel({ type: 'int8', shape: [2, 3] })]) {
      expect(() => readModel(writeModel(model))).not.toThrow();
    }
  });

  it('the verifier accepts both parts of every cut of a generated net', () => {
    const model = buildTestNet(3);
    const cuts = cutPoints(model);
    expect(cuts.length).toBeGreaterThanOrEqual(10);
    for (const { k } of cuts) {
      const { head, tail } = splitModel(model, k);
      for (const part of [head, tail]) if (part !== null) readModel(writeModel(part));
    }
  });

  it('the verifier refuses a zero pool filter and a concatenation axis outside the rank in a generated net', () => {
    const pooled = buildTestNet(0);
    const pool = pooled.subgraphs[0]!.operators.find((o) => o.builtinOptions?.name === 'Pool2DOptions')!;
    pool.builtinOptions!.fields.filterWidth = 0;
    expect(refusedRule(pooled)).toBe('op-options');
    const concatenated = buildTestNet(0);
    const concat = concatenated.subgraphs[0]!.operators.find(
      (o) => o.builtinOptions?.name === 'ConcatenationOptions',
    )!;
    concat.builtinOptions!.fields.axis = 4;
    expect(refusedRule(concatenated)).toBe('op-options');
    expect(refusedRule(buildTestNet(0))).toBeUndefined();
  });

  it('600 seeded mutants of the generated nets each read or throw a typed error; what reads writes back', () => {
    const sources = [buildTestNet(0), buildTestNet(5), tinyModel({ type: 'int8', shape: [2, 3] })].map(
      writeModel,
    );
    const maps = sources.map((bytes) => mapStructure(bytes));
    const kinds = new Set<string>();
    let read = 0;
    let rejected = 0;
    for (let i = 0; i < 600; i++) {
      const j = i % sources.length;
      const mutant = mutate(sources[j]!, 20_001 + i, maps[j]!, { other: sources[(j + 1) % sources.length]! });
      kinds.add(mutant.kind);
      const where = `source ${j} seed ${20_001 + i} (${mutant.kind}: ${mutant.detail})`;
      let model: TfliteModel;
      try {
        model = readModel(mutant.bytes);
      } catch (e) {
        if (!typedModelError(e)) throw new Error(`${where}: untyped error ${String(e)}`, { cause: e });
        rejected++;
        continue;
      }
      read++;
      let written: Uint8Array | undefined;
      try {
        written = writeModel(model);
      } catch (e) {
        if (!typedModelError(e))
          throw new Error(`${where}: writing threw untyped ${String(e)}`, { cause: e });
      }
      // Whatever the writer accepts it must write validly: the output reads back.
      if (written !== undefined) readModel(written);
    }
    expect([...kinds].sort()).toEqual([...MUTATION_KINDS].sort());
    expect(rejected).toBeGreaterThan(100);
    expect(read).toBeGreaterThan(50);
  });

  it('runnability finds nothing to object to in a generated int8 model', () => {
    const r = runnability(buildTestNet(0));
    expect(r).toMatchObject({ cpuRunnable: true, compiled: false, unresolvedCustomOps: [], edgetpuOps: [] });
    expect(r.reason).toBeUndefined();
  });
});
