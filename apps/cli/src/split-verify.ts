/**
 * `swapless split --verify`: runs head then tail against the whole model on seeded random inputs on the real
 * TFLite runtime and compares the outputs bit for bit. All three models run with the same interpreter options
 * (`createInterpreter`'s defaults, one thread), so they run on the same kernels and any difference is the split's.
 */
import type { TensorArray } from '@swapless/contracts';
import { UnsupportedModelError } from '@swapless/core';
import {
  createInterpreter,
  type Interpreter,
  type InterpreterOptions,
  type PreparedModel,
  prepareModel,
} from '@swapless/edgetpu';
import {
  chainParts,
  runnability,
  SeededRandom,
  type SplitBoundary,
  type TfliteModel,
} from '@swapless/tflite';
import { inputsFor } from './inference.js';

/** One original output compared over all samples. */
export interface OutputVerdict {
  name: string;
  identical: boolean;
  /** Largest |whole − chained| over all elements and samples (0 when identical; NaN never counts as equal). */
  maxAbsDiff: number;
  /** Samples on which this output differed. */
  differingSamples: number;
}

/** The `verify` section of `swapless split --json`. */
export interface VerifyReport {
  /**
   * The verdict (the exit status follows it): true when the parts chain bit-identically to the whole model on the
   * same kernels — on the default ones ({@link identical}), or, when only those differ, on TFLite's reference
   * kernels ({@link referenceKernels}: the difference then comes from the accelerated kernels, not from the split).
   */
  exact: boolean;
  /** True when every output of every sample is bit-identical on the default kernels (XNNPACK). */
  identical: boolean;
  samples: number;
  seed: number;
  /** Delegates each model ran with (the same for all three: one set of interpreter options). */
  delegates: { whole: string[]; head: string[] | null; tail: string[] | null };
  outputs: OutputVerdict[];
  /**
   * Only when the default run differed: the same comparison on TFLite's reference kernels (XNNPACK off). If the
   * parts agree there, the difference comes from the accelerated kernels, not from the split.
   */
  referenceKernels: { identical: boolean; outputs: OutputVerdict[] } | null;
}

function run(interpreter: Interpreter, inputs: readonly TensorArray[]): TensorArray[] {
  inputs.forEach((a, i) => {
    interpreter.setInput(i, a);
  });
  interpreter.invoke();
  return interpreter.outputs.map((_, i) => interpreter.getOutput(i));
}

function sameBytes(a: TensorArray, b: TensorArray): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function maxAbsDiff(a: TensorArray, b: TensorArray): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(Number(a[i]) - Number(b[i]));
    // NaN on one side only is a difference of unknown size.
    if (Number.isNaN(d)) {
      if (!(Number.isNaN(Number(a[i])) && Number.isNaN(Number(b[i])))) return Number.POSITIVE_INFINITY;
    } else if (d > max) max = d;
  }
  return max;
}

/** Creates the interpreters, runs every sample, compares; disposes everything it created. */
function compare(
  models: { whole: PreparedModel; head: PreparedModel | null; tail: PreparedModel | null },
  boundary: SplitBoundary,
  options: InterpreterOptions,
  samples: number,
  seed: number,
): { outputs: OutputVerdict[]; delegates: VerifyReport['delegates'] } {
  const created: Interpreter[] = [];
  const make = (model: PreparedModel | null): Interpreter | null => {
    if (model === null) return null;
    const it = createInterpreter(model, options);
    created.push(it);
    return it;
  };
  try {
    const whole = make(models.whole)!;
    const head = make(models.head);
    const tail = make(models.tail);
    const verdicts: OutputVerdict[] = whole.outputs.map((o) => ({
      name: o.name,
      identical: true,
      maxAbsDiff: 0,
      differingSamples: 0,
    }));
    const rng = new SeededRandom(seed);
    for (let s = 0; s < samples; s++) {
      const inputs = inputsFor(whole.inputs, rng, '--verify');
      const expected = run(whole, inputs);
      const chained = chainParts(
        boundary,
        inputs,
        (ins) => run(head!, ins),
        (ins) => run(tail!, ins),
      );
      chained.forEach((got, i) => {
        const v = verdicts[i]!;
        if (sameBytes(got, expected[i]!)) return;
        v.identical = false;
        v.differingSamples++;
        v.maxAbsDiff = Math.max(v.maxAbsDiff, maxAbsDiff(got, expected[i]!));
      });
    }
    const delegates = (it: Interpreter | null) => (it === null ? null : [...it.backend.delegates]);
    return {
      outputs: verdicts,
      delegates: { whole: delegates(whole)!, head: delegates(head), tail: delegates(tail) },
    };
  } finally {
    for (const it of created) it.dispose();
  }
}

/**
 * Runs head then tail against the whole model on `samples` seeded random inputs (interpreter defaults, one
 * thread unless `options.threads` says otherwise, the same for all three) and reports per-output bit-identity and
 * largest difference. When the parts differ, repeats the comparison on TFLite's reference kernels to tell a kernel
 * difference from a split error; `exact` is the verdict of both. `model` is `bytes` as read (and verified) by
 * `readModel`; `parts` were written from it by the splitter. Each may be given prepared (`prepareModel`) already.
 *
 * @throws UnsupportedModelError when the CPU runtime here cannot run the model (custom op, compiled model).
 */
export function verifySplit(
  model: TfliteModel,
  bytes: Uint8Array | PreparedModel,
  parts: { head: Uint8Array | PreparedModel | null; tail: Uint8Array | PreparedModel | null },
  boundary: SplitBoundary,
  samples: number,
  seed: number,
  options: { threads?: number } = {},
): VerifyReport {
  const r = runnability(model);
  if (!r.cpuRunnable) {
    throw new UnsupportedModelError(
      `The parts were written, but --verify cannot run the model: ${r.reason}`,
      {
        details: { reason: r.reason },
      },
    );
  }
  // Each model is prepared once for both comparisons: the whole model was verified by the caller (`model` is its
  // readModel), the parts were written by the splitter from it, so none is verified again.
  const prepare = (b: Uint8Array | PreparedModel | null) =>
    b instanceof Uint8Array ? prepareModel(b, { verify: false }) : b;
  const models = { whole: prepare(bytes)!, head: prepare(parts.head), tail: prepare(parts.tail) };
  const threads = options.threads ?? 1;
  const first = compare(models, boundary, { threads }, samples, seed);
  const identical = first.outputs.every((o) => o.identical);
  let referenceKernels: VerifyReport['referenceKernels'] = null;
  if (!identical) {
    const ref = compare(models, boundary, { threads, xnnpack: false }, samples, seed);
    referenceKernels = { identical: ref.outputs.every((o) => o.identical), outputs: ref.outputs };
  }
  return {
    exact: identical || referenceKernels?.identical === true,
    identical,
    samples,
    seed,
    delegates: first.delegates,
    outputs: first.outputs,
    referenceKernels,
  };
}
