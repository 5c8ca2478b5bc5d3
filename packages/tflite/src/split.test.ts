import { ErrorCodes, InvalidCutError, UnsupportedModelError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { scheduleOf } from './analysis.js';
import { branches, dequantizeFeedingConv, earlyOutput, linearInt8, residual } from './fixtures.test-util.js';
import type { TfliteModel } from './model.js';
import { chainParts, splitModel } from './split.js';

/** Checks that a part is a self-contained, valid graph that references only its own tensors/buffers/opcodes. */
function expectSelfContained(part: TfliteModel): void {
  const g = part.subgraphs[0]!;
  expect(part.subgraphs).toHaveLength(1);
  expect(part.buffers[0]!.data ?? new Uint8Array(0)).toHaveLength(0);
  expectPartSignature(part);
  expect(part.metadataBuffer).toBeUndefined();
  // The test graphs carry min_runtime_version, CONVERSION_METADATA and TFLITE_METADATA: the model card goes.
  expect(part.metadata?.map((m) => m.name)).toEqual(['min_runtime_version', 'CONVERSION_METADATA']);
  const bufferRefs = new Array<number>(part.buffers.length).fill(0);
  for (const m of part.metadata ?? []) bufferRefs[m.buffer]!++;
  for (const t of g.tensors) {
    expect(t.buffer).toBeGreaterThanOrEqual(0);
    expect(t.buffer).toBeLessThan(part.buffers.length);
    bufferRefs[t.buffer]!++;
  }
  // Every buffer but the sentinel is referenced, and carries data.
  for (let b = 1; b < part.buffers.length; b++) {
    expect(bufferRefs[b], `buffer ${b} referenced`).toBeGreaterThan(0);
    expect(part.buffers[b]!.data!.length).toBeGreaterThan(0);
  }
  const usedCodes = new Set<number>();
  const referenced = new Set<number>([...g.inputs, ...g.outputs]);
  const available = new Set<number>(g.inputs);
  g.tensors.forEach((t, i) => {
    if (t.buffer !== 0) available.add(i);
  });
  for (const op of g.operators) {
    expect(op.opcodeIndex).toBeLessThan(part.operatorCodes.length);
    usedCodes.add(op.opcodeIndex);
    for (const t of op.inputs) {
      if (t < 0) continue;
      expect(t).toBeLessThan(g.tensors.length);
      expect(available.has(t), `tensor ${t} defined before use`).toBe(true);
      referenced.add(t);
    }
    for (const t of op.outputs) {
      expect(available.has(t), `tensor ${t} defined once`).toBe(false);
      available.add(t);
      referenced.add(t);
    }
  }
  for (const t of g.outputs) expect(available.has(t)).toBe(true);
  expect(usedCodes.size).toBe(part.operatorCodes.length);
  expect(referenced.size).toBe(g.tensors.length);
}

/** A part's one signature: the original key, its own inputs and outputs in order, unique names. */
function expectPartSignature(part: TfliteModel): void {
  const g = part.subgraphs[0]!;
  expect(part.signatureDefs).toHaveLength(1);
  const sig = part.signatureDefs![0]!;
  expect(sig.signatureKey).toBe('serving_default');
  expect(sig.subgraphIndex).toBe(0);
  expect(sig.inputs.map((m) => m.tensorIndex)).toEqual(g.inputs);
  expect(sig.outputs.map((m) => m.tensorIndex)).toEqual(g.outputs);
  for (const list of [sig.inputs, sig.outputs]) {
    const names = list.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
  }
}

function tensorNames(part: TfliteModel | null, which: 'inputs' | 'outputs'): string[] {
  if (part === null) return [];
  const g = part.subgraphs[0]!;
  return g[which].map((t) => g.tensors[t]!.name);
}

function opTypes(part: TfliteModel | null): number[] {
  if (part === null) return [];
  return part.subgraphs[0]!.operators.map((op) => part.operatorCodes[op.opcodeIndex]!.builtinCode);
}

describe('splitModel', () => {
  it('splits a linear model into two self-contained parts at every inner cut', () => {
    const model = linearInt8();
    for (let k = 1; k < 4; k++) {
      const { head, tail, boundary } = splitModel(model, k);
      expectSelfContained(head!);
      expectSelfContained(tail!);
      expect(head!.subgraphs[0]!.operators).toHaveLength(k);
      expect(tail!.subgraphs[0]!.operators).toHaveLength(4 - k);
      expect(tensorNames(head, 'inputs')).toEqual(['input']);
      expect(tensorNames(head, 'outputs')).toEqual(tensorNames(tail, 'inputs'));
      expect(tensorNames(tail, 'outputs')).toEqual(['logits']);
      expect(boundary.outputs).toEqual([{ part: 'tail', index: 0, name: 'logits' }]);
      expect(boundary.tailInputs).toEqual([{ from: 'head', index: 0, name: boundary.tensors[0]!.name }]);
    }
    // Reindexing at k = 3: the tail is FC only, with its tensors renumbered 0..3 and buffers 1..2.
    const { tail } = splitModel(model, 3);
    const g = tail!.subgraphs[0]!;
    expect(g.tensors.map((t) => t.name)).toEqual(['flat', 'w2', 'b2', 'logits']);
    expect(g.tensors.map((t) => t.buffer)).toEqual([0, 1, 2, 0]);
    expect(g.operators[0]!.inputs).toEqual([0, 1, 2]);
    expect(g.operators[0]!.opcodeIndex).toBe(0);
    expect(tail!.buffers[1]!.data).toBe(model.buffers[model.subgraphs[0]!.tensors[7]!.buffer]!.data);
  });

  it('preserves options verbatim and does not modify the source model', () => {
    const model = linearInt8();
    const before = structuredClone(model);
    const { head, tail } = splitModel(model, 2);
    expect(head!.subgraphs[0]!.operators[0]!.builtinOptions).toBe(
      model.subgraphs[0]!.operators[0]!.builtinOptions,
    );
    expect(tail!.subgraphs[0]!.operators[0]!.builtinOptions).toEqual({
      type: 17,
      name: 'ReshapeOptions',
      fields: { newShape: [1, 256] },
    });
    expect(model).toEqual(before);
  });

  it("refuses, with the writer's reason, a model holding data no part could be written with", () => {
    const model = linearInt8();
    model.subgraphs[0]!.operators[3]!.builtinOptions = {
      type: 8,
      name: 'unknown',
      fields: {},
      unsupported: true,
    };
    expect(() => splitModel(model, 2)).toThrow(
      expect.objectContaining({
        code: ErrorCodes.UNSUPPORTED_MODEL,
        message: expect.stringMatching(
          /^This model cannot be split: the model cannot be rewritten without losing data \(Cannot write operator 3 \(FULLY_CONNECTED\)/,
        ),
      }),
    );
    const marked = linearInt8();
    marked.subgraphs[0]!.tensors[0]!.unsupported = ['model.subgraphs[0].tensors[0]: unknown field id(s) 10'];
    expect(() => splitModel(marked, 1)).toThrow(UnsupportedModelError);
    // The ends split nothing: the model itself is the one side, whatever it holds.
    expect(splitModel(marked, 0).tail).toBe(marked);
    expect(splitModel(marked, 4).head).toBe(marked);
  });

  it('gives each part the signature of the original, renamed for its own inputs and outputs', () => {
    const model = residual();
    // The original signature names its input and output differently from the tensors.
    model.signatureDefs = [
      {
        inputs: [{ name: 'image', tensorIndex: 0 }],
        outputs: [{ name: 'result', tensorIndex: 5 }],
        signatureKey: 'serving_default',
        deprecatedTag: 'serve',
        subgraphIndex: 0,
      },
    ];
    const { head, tail } = splitModel(model, 2);
    expect(head!.signatureDefs).toEqual([
      {
        inputs: [{ name: 'image', tensorIndex: 0 }],
        outputs: [
          { name: 'x', tensorIndex: 3 },
          { name: 'y', tensorIndex: 4 },
        ],
        signatureKey: 'serving_default',
        deprecatedTag: 'serve',
        subgraphIndex: 0,
      },
    ]);
    expect(tail!.signatureDefs![0]!.inputs).toEqual([
      { name: 'x', tensorIndex: 0 },
      { name: 'y', tensorIndex: 1 },
    ]);
    expect(tail!.signatureDefs![0]!.outputs).toEqual([{ name: 'result', tensorIndex: 2 }]);
    // Duplicate tensor names are made unique with the original tensor index; nameless tensors get one.
    const dup = residual();
    dup.subgraphs[0]!.tensors[4]!.name = 'x';
    const dupHead = splitModel(dup, 2).head!;
    expect(dupHead.signatureDefs![0]!.outputs.map((m) => m.name)).toEqual(['x', 'x_4']);
    const nameless = residual();
    nameless.subgraphs[0]!.tensors[3]!.name = '';
    expect(splitModel(nameless, 1).head!.signatureDefs![0]!.outputs.map((m) => m.name)).toEqual(['tensor_3']);
    // No signature in the original, none in the parts.
    const plain = residual();
    delete plain.signatureDefs;
    expect(splitModel(plain, 1).head!.signatureDefs).toBeUndefined();
  });

  it('cuts inside a residual block with two boundary tensors in ascending tensor order', () => {
    const model = residual();
    const { head, tail, boundary } = splitModel(model, 2);
    expectSelfContained(head!);
    expectSelfContained(tail!);
    expect(boundary.tensors.map((b) => [b.name, b.headOutput, b.tailInput])).toEqual([
      ['x', 0, 0],
      ['y', 1, 1],
    ]);
    expect(tensorNames(head, 'outputs')).toEqual(['x', 'y']);
    expect(tensorNames(tail, 'inputs')).toEqual(['x', 'y']);
    expect(tail!.subgraphs[0]!.tensors.map((t) => t.name)).toEqual(['x', 'y', 'z']);
    expect(tail!.buffers).toHaveLength(3); // sentinel + min_runtime_version + CONVERSION_METADATA
  });

  it('feeds a model input consumed after the cut straight to the tail', () => {
    const { head, tail, boundary } = splitModel(branches(), 1);
    expectSelfContained(head!);
    expectSelfContained(tail!);
    expect(tensorNames(head, 'inputs')).toEqual(['input']);
    expect(tensorNames(head, 'outputs')).toEqual(['p']);
    expect(tensorNames(tail, 'inputs')).toEqual(['input', 'p']);
    expect(boundary.tailInputs).toEqual([
      { from: 'input', index: 0, name: 'input' },
      { from: 'head', index: 0, name: 'p' },
    ]);
    expect(boundary.headInputs).toEqual([0]);
  });

  it('keeps a model output produced early as a head output and maps outputs in original order', () => {
    const { head, tail, boundary } = splitModel(earlyOutput(), 1);
    expectSelfContained(head!);
    expectSelfContained(tail!);
    expect(tensorNames(head, 'outputs')).toEqual(['early']);
    expect(tensorNames(tail, 'inputs')).toEqual(['input', 'early']);
    expect(tensorNames(tail, 'outputs')).toEqual(['late', 'side']);
    expect(boundary.outputs).toEqual([
      { part: 'tail', index: 0, name: 'late' },
      { part: 'head', index: 0, name: 'early' },
      { part: 'tail', index: 1, name: 'side' },
    ]);
    const two = splitModel(earlyOutput(), 2);
    expect(tensorNames(two.head, 'outputs')).toEqual(['early', 'late']);
    expect(tensorNames(two.tail, 'inputs')).toEqual(['input']);
    expect(two.boundary.outputs.map((o) => o.part)).toEqual(['head', 'head', 'tail']);
  });

  it('moves a constant-only DEQUANTIZE with its consumers, duplicating it when they straddle the cut', () => {
    const model = dequantizeFeedingConv();
    expect(scheduleOf(model).n).toBe(3);
    const one = splitModel(model, 1);
    expect(opTypes(one.head)).toEqual([19]); // RELU only: the DEQUANTIZE goes with its consumers
    expect(opTypes(one.tail)).toEqual([6, 3, 3]);
    const two = splitModel(model, 2);
    expect(opTypes(two.head)).toEqual([19, 6, 3]);
    expect(opTypes(two.tail)).toEqual([6, 3]);
    for (const part of [one.head, one.tail, two.head, two.tail]) expectSelfContained(part!);
    expect(two.boundary.tensors.map((b) => b.name)).toEqual(['c']);
    expect(two.tail!.subgraphs[0]!.tensors.map((t) => t.name)).toEqual(['w16', 'w32', 'b2', 'c', 'out']);
  });

  it('returns a null side and the model itself at k = 0 and k = n', () => {
    const model = residual();
    const none = splitModel(model, 0);
    expect(none.head).toBeNull();
    expect(none.tail).toBe(model);
    expect(none.boundary.tensors.map((b) => [b.name, b.source, b.tailInput])).toEqual([
      ['input', 'input', 0],
    ]);
    expect(none.boundary.tailInputs).toEqual([{ from: 'input', index: 0, name: 'input' }]);
    expect(none.boundary.outputs).toEqual([{ part: 'tail', index: 0, name: 'z' }]);
    const all = splitModel(model, 3);
    expect(all.tail).toBeNull();
    expect(all.head).toBe(model);
    expect(all.boundary.headInputs).toEqual([0]);
    expect(all.boundary.tensors.map((b) => [b.name, b.source, b.headOutput])).toEqual([['z', 'head', 0]]);
    expect(all.boundary.outputs).toEqual([{ part: 'head', index: 0, name: 'z' }]);
  });

  it('splits nothing at the ends of a model no inner cut of which can be used (several subgraphs)', () => {
    const model = earlyOutput();
    const twoGraphs: TfliteModel = { ...model, subgraphs: [model.subgraphs[0]!, model.subgraphs[0]!] };
    const n = scheduleOf(twoGraphs).n;
    expect(() => splitModel(twoGraphs, 1)).toThrow(UnsupportedModelError);
    const none = splitModel(twoGraphs, 0);
    expect(none.tail).toBe(twoGraphs);
    // The model's own outputs, in order, the one produced early included.
    expect(none.boundary.outputs.map((o) => [o.part, o.index])).toEqual([
      ['tail', 0],
      ['tail', 1],
      ['tail', 2],
    ]);
    expect(
      chainParts(
        none.boundary,
        ['x'],
        () => expect.unreachable(),
        () => ['a', 'b', 'c'],
      ),
    ).toEqual(['a', 'b', 'c']);
    const all = splitModel(twoGraphs, n);
    expect(all.head).toBe(twoGraphs);
    expect(
      chainParts(
        all.boundary,
        ['x'],
        () => ['a', 'b', 'c'],
        () => expect.unreachable(),
      ),
    ).toEqual(['a', 'b', 'c']);
  });

  it('chains parts by the boundary: head on its inputs, tail on head outputs and model inputs', () => {
    // earlyOutput at k = 1: outputs come from the tail (late, side) and the head (early); the tail reads a model input.
    const { boundary } = splitModel(earlyOutput(), 1);
    const calls: string[][] = [];
    const out = chainParts(
      boundary,
      ['input-value'],
      (ins) => {
        calls.push(['head', ...ins]);
        return ['early-value'];
      },
      (ins) => {
        calls.push(['tail', ...ins]);
        return ['late-value', 'side-value'];
      },
    );
    expect(calls).toEqual([
      ['head', 'input-value'],
      ['tail', 'input-value', 'early-value'],
    ]);
    expect(out).toEqual(['late-value', 'early-value', 'side-value']);
    // A missing side is never run.
    const none = splitModel(earlyOutput(), 0).boundary;
    expect(
      chainParts(
        none,
        ['x'],
        () => expect.unreachable(),
        () => ['a', 'b', 'c'],
      ),
    ).toEqual(['a', 'b', 'c']);
  });

  it('refuses a cut point that does not exist with InvalidCutError', () => {
    const model = residual();
    for (const k of [-1, 4, 0.5]) {
      expect(() => splitModel(model, k)).toThrow(InvalidCutError);
    }
    expect(() => splitModel(model, 9)).toThrow(
      expect.objectContaining({
        code: ErrorCodes.INVALID_CUT,
        message: 'Expected an integer cut point between 0 and 3 for a model of 3 ops but received 9',
      }),
    );
  });

  it('refuses models it cannot split at all with UnsupportedModelError and the reason', () => {
    const model = residual();
    const twoGraphs: TfliteModel = { ...model, subgraphs: [model.subgraphs[0]!, model.subgraphs[0]!] };
    expect(() => splitModel(twoGraphs, 1)).toThrow(
      expect.objectContaining({
        code: ErrorCodes.UNSUPPORTED_MODEL,
        message: expect.stringMatching(/^This model cannot be split: the model has 2 subgraphs/),
      }),
    );
  });

  it('refuses a cut a variable tensor crosses with InvalidCutError, the reason and the usable cuts', () => {
    const withVariable = residual();
    withVariable.subgraphs[0]!.tensors[3]!.isVariable = true;
    let error: unknown;
    try {
      splitModel(withVariable, 1);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidCutError);
    expect((error as InvalidCutError).message).toBe(
      'Expected a usable cut point for a model of 3 ops but received 1: variable tensor 3 "x" keeps state between runs ' +
        'and is used by ops on both sides of the cut (op 0 and op 2): the two parts would each keep their own copy of ' +
        'the state (usable cuts: 0, 3)',
    );
    expect((error as InvalidCutError).details).toMatchObject({ k: 1, n: 3, usable: [0, 3] });
    // The ends stay usable: one side holds every op that touches the state.
    expect(splitModel(withVariable, 0).tail).not.toBeNull();
    expect(splitModel(withVariable, 3).head).not.toBeNull();
  });
});
