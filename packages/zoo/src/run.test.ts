// Every zoo model on the real TFLite 2.9 runtime (XNNPACK on, 2 threads): quantization keeps the logits and
// the softmax output informative for a random input, and splitting at ≥ 3 cut points (early, middle — inside
// a branch or residual block where the architecture has them — and just before the softmax) gives outputs
// bit-identical to the whole model's. One whole-model invoke and one head + tail invoke per cut: the
// heaviest models (vgg16, inception_v4, resnet152_v2) cost a few seconds each.
import type { TensorArray } from '@swapless/contracts';
import { createInterpreter } from '@swapless/edgetpu';
import { analyzeModel, type CutPoint, cutPoints, splitBytes, writeModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { buildZooModel, ZOO_MODEL_NAMES, ZOO_MODELS, type ZooModelName } from './index.js';

const SETTINGS = { threads: 2, xnnpack: true } as const;

/** Architectures without any branch or residual: every boundary is one tensor. */
const CHAIN_ONLY: ReadonlySet<ZooModelName> = new Set(['mobilenet_v1', 'vgg16']);

/** A deterministic int8 input covering the whole range (uniform bytes from an LCG). */
function randomInt8(length: number, seed: number): Int8Array {
  const out = new Int8Array(length);
  let s = (seed * 2654435761 + 1) >>> 0;
  for (let i = 0; i < length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = (s >>> 24) - 128;
  }
  return out;
}

/** Runs a model with inputs matched by name; returns its outputs by name. */
function run(model: Uint8Array, values: ReadonlyMap<string, TensorArray>): Map<string, TensorArray> {
  const it = createInterpreter(model, SETTINGS);
  try {
    expect(it.backend.xnnpack).toBe(true);
    it.inputs.forEach((info, i) => {
      const v = values.get(info.name);
      if (v === undefined) throw new Error(`no value for input "${info.name}"`);
      it.setInput(i, v);
    });
    it.invoke();
    return new Map(it.outputs.map((info, i) => [info.name, it.getOutput(i)]));
  } finally {
    it.dispose();
  }
}

const bytesOf = (a: TensorArray): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Cheapest cut (fewest bytes leaving the head) among `ks`, preferring multi-tensor boundaries if asked. */
function cheapest(cuts: readonly CutPoint[], ks: number[], multi: boolean): CutPoint | undefined {
  const pool = ks.map((k) => cuts[k]!).filter((c) => !multi || c.boundary.length >= 2);
  pool.sort((a, b) => a.transferBytes - b.transferBytes || a.k - b.k);
  return pool[0];
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let k = Math.max(1, Math.floor(from)); k < Math.ceil(to); k++) out.push(k);
  return out;
}

/** Early, middle, inside-a-branch/residual (when there is one) and just-before-softmax cuts. */
function chooseCuts(cuts: readonly CutPoint[], n: number): number[] {
  const chosen = new Set<number>();
  chosen.add(cheapest(cuts, range(1, n / 4), false)!.k);
  chosen.add(cheapest(cuts, range(n / 3, (2 * n) / 3), false)!.k);
  const inside = cheapest(cuts, range(n / 4, (3 * n) / 4), true) ?? cheapest(cuts, range(1, n - 1), true);
  if (inside !== undefined) chosen.add(inside.k);
  chosen.add(n - 1);
  return [...chosen].sort((a, b) => a - b);
}

describe.each(ZOO_MODEL_NAMES.map((n) => [n] as [ZooModelName]))('%s on the TFLite runtime', (name) => {
  it('keeps activations in range and splits bit-exactly at ≥ 3 cut points', () => {
    const model = buildZooModel(name);
    const bytes = writeModel(model);
    const n = analyzeModel(model).ops.length;
    const cuts = cutPoints(model);
    const g = model.subgraphs[0]!;
    const inputName = g.tensors[g.inputs[0]!]!.name;
    const outputName = g.tensors[g.outputs[0]!]!.name;
    const info = ZOO_MODELS[name];
    const input = randomInt8(
      info.inputShape.reduce((a, d) => a * d, 1),
      1,
    );
    const inputs = new Map<string, TensorArray>([[inputName, input]]);

    const whole = run(bytes, inputs).get(outputName) as Int8Array;
    expect(whole.length).toBe(info.classes);

    // Softmax output (scale 1/256, zero point −128): not collapsed to one class, not flat.
    const probs = Array.from(whole, (q) => (q + 128) / 256);
    expect(Math.max(...probs), 'top probability').toBeLessThan(0.5);
    expect(probs.filter((p) => p > 0).length, 'classes with non-zero probability').toBeGreaterThanOrEqual(10);

    const ks = chooseCuts(cuts, n);
    expect(ks.length).toBeGreaterThanOrEqual(3);
    if (!CHAIN_ONLY.has(name)) {
      expect(
        ks.some((k) => cuts[k]!.boundary.length >= 2),
        'a cut inside a branch or residual block',
      ).toBe(true);
    }
    for (const k of ks) {
      const split = splitBytes(bytes, k);
      const values = new Map(inputs);
      const head = run(split.head!, inputs);
      for (const [tensor, data] of head) values.set(tensor, data);
      const tail = run(split.tail!, values);
      const chained = tail.get(outputName)!;
      expect(Buffer.compare(bytesOf(chained), bytesOf(whole)), `output at k=${k}`).toBe(0);

      if (k === n - 1) {
        // The head of the last cut ends at the logits (the softmax input): check their quantization.
        expect(head.size).toBe(1);
        const logits = [...head.values()][0] as Int8Array;
        expect(split.boundary.tensors[0]!.name).not.toBe(outputName);
        const values8 = Array.from(logits);
        const distinct = new Set(values8).size;
        const top = values8.filter((q) => q === 127).length / values8.length;
        const bottom = values8.filter((q) => q === -128).length / values8.length;
        expect(distinct, 'distinct logit values').toBeGreaterThanOrEqual(64);
        expect(top, 'logits saturated at +127').toBeLessThan(0.05);
        // SqueezeNet's conv10 logits pass a ReLU: −128 is real 0 there (zero point −128), not saturation.
        expect(bottom, 'logits at −128').toBeLessThan(name === 'squeezenet' ? 0.75 : 0.05);
      }
    }
  }, 120_000);
});
