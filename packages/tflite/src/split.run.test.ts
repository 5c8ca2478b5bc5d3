// Splits real models and runs head + tail on the real TFLite runtime: the chained outputs must be
// bit-identical to the whole model's, with XNNPACK on and with XNNPACK off. Needs the writer and a built
// @swapless/edgetpu (with its native addon); if either is missing these tests fail, they never skip.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { cutPoints } from './cuts.js';
import { readModel } from './reader.js';
import { splitBytes } from './split.js';
import { makeInputs, type RunSettings, rawBytes, runByName, runChained } from './split.test-util.js';
import { loadRealModel, realModel } from './testing/real-models.js';

const require = createRequire(import.meta.url);
const FACE = require.resolve('@mediapipe/face_detection/face_detection_short_range.tflite');
const SETTINGS: readonly RunSettings[] = [{ xnnpack: true }, { xnnpack: false }];

/** Splits `bytes` at each k and checks head + tail against the whole model; returns the boundary sizes. */
function expectBitExact(
  bytes: Uint8Array,
  ks: readonly number[],
  settings: RunSettings,
): Map<number, number> {
  const inputs = makeInputs(bytes);
  const whole = runByName(bytes, inputs, settings).map((o) => rawBytes(o.data));
  expect(whole.length).toBeGreaterThan(0);
  const sizes = new Map<number, number>();
  for (const k of ks) {
    const split = splitBytes(bytes, k);
    sizes.set(k, split.boundary.tensors.length);
    const chained = runChained(split, inputs, settings).map(rawBytes);
    expect(chained.length, `outputs at k=${k}`).toBe(whole.length);
    chained.forEach((out, i) => {
      expect(out.byteLength, `output ${i} size at k=${k}`).toBe(whole[i]!.byteLength);
      expect(Buffer.compare(Buffer.from(out), Buffer.from(whole[i]!)), `output ${i} at k=${k}`).toBe(0);
    });
  }
  return sizes;
}

function allCuts(bytes: Uint8Array): number[] {
  return cutPoints(readModel(bytes)).map((c) => c.k);
}

describe('split face_detection_short_range on the real runtime', () => {
  const bytes = new Uint8Array(readFileSync(FACE));
  const cuts = cutPoints(readModel(bytes));
  // Cuts inside residual blocks (boundary of 2+ tensors), between blocks (1 tensor) and near both ends.
  const chosen = [1, 3, 8, 14, 32, 45, 61, 75, 82, 89];

  it('has the expected op order and multi-tensor boundaries at the chosen cuts', () => {
    expect(cuts).toHaveLength(91);
    const multi = chosen.filter((k) => cuts[k]!.boundary.length >= 2);
    expect(multi).toEqual([3, 8, 14, 45, 61, 75, 82, 89]);
    expect(cuts[82]!.boundary.length).toBe(4);
  });

  for (const settings of SETTINGS) {
    it(`is bit-exact at ${chosen.length} chosen cuts with XNNPACK ${settings.xnnpack ? 'on' : 'off'}`, () => {
      const sizes = expectBitExact(bytes, chosen, settings);
      expect([...sizes.values()].filter((n) => n >= 2).length).toBeGreaterThanOrEqual(5);
    });
  }

  for (const settings of SETTINGS) {
    it(`is bit-exact at every cut point 0..n with XNNPACK ${settings.xnnpack ? 'on' : 'off'}`, () => {
      const ks = allCuts(bytes);
      expect(ks).toHaveLength(91);
      expectBitExact(bytes, ks, settings);
    });
  }

  it('compares something that depends on the input (control)', () => {
    const one = runByName(bytes, makeInputs(bytes, 1), { xnnpack: false }).map((o) =>
      Buffer.from(rawBytes(o.data)),
    );
    const two = runByName(bytes, makeInputs(bytes, 2), { xnnpack: false }).map((o) =>
      Buffer.from(rawBytes(o.data)),
    );
    expect(one.map((b, i) => b.equals(two[i]!))).toEqual([false, false]);
    // A tail fed a wrong value for one boundary tensor (the residual input, zeroed) must not match.
    const split = splitBytes(bytes, 8);
    const inputs = makeInputs(bytes, 1);
    const head = runByName(split.head!, inputs, { xnnpack: false });
    expect(head.map((o) => o.name)).toEqual(['activation_1', 'conv2d_2']);
    const values = new Map(inputs);
    values.set('activation_1', new Float32Array(head[0]!.data.length));
    values.set('conv2d_2', head[1]!.data);
    const wrong = runByName(split.tail!, values, { xnnpack: false }).map((o) =>
      Buffer.from(rawBytes(o.data)),
    );
    expect(wrong.some((w, i) => !w.equals(one[i]!))).toBe(true);
  });
});

describe('split sparse, signatured and stateful real models at every usable cut', () => {
  const cases: [string, number][] = [
    ['mediapipe/face_detection_full_range_sparse', 161],
    ['coral/movenet_single_pose_lightning_ptq', 158],
    ['coral/keras_lstm_mnist_ptq', 7],
  ];
  for (const [name, count] of cases) {
    const real = realModel(name);
    for (const xnnpack of real.xnnpack ? [false, true] : [false]) {
      it(`${name}: every cut is usable, loads and chains bit-exactly with XNNPACK ${xnnpack ? 'on' : 'off'}`, () => {
        const bytes = loadRealModel(real);
        const cuts = cutPoints(readModel(bytes));
        expect(cuts).toHaveLength(count);
        expect(cuts.filter((c) => !c.usable)).toEqual([]);
        expectBitExact(
          bytes,
          cuts.map((c) => c.k),
          { xnnpack },
        );
      });
    }
  }

  it('keeps the signature key and reduced-precision metadata in the parts TFLite loads', () => {
    const movenet = loadRealModel(realModel('coral/movenet_single_pose_lightning_ptq'));
    const { head, tail } = splitBytes(movenet, 40);
    for (const part of [head!, tail!]) {
      const m = readModel(part);
      expect(m.signatureDefs!.map((s) => s.signatureKey)).toEqual(['serving_default']);
      expect(m.signatureDefs![0]!.inputs.map((i) => i.tensorIndex)).toEqual(m.subgraphs[0]!.inputs);
    }
    const hands = loadRealModel(realModel('mediapipe/hand_landmark_lite'));
    const parts = splitBytes(hands, 30);
    expect(readModel(parts.tail!).metadata!.map((md) => md.name)).toEqual([
      'min_runtime_version',
      'reduced_precision_support',
    ]);
    expect(runByName(parts.tail!, makeInputs(parts.tail!), { xnnpack: true }).length).toBeGreaterThan(0);
  });
});
