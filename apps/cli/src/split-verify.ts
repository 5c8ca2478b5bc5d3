/**
 * `swapless split --verify`: runs head then tail against the whole model on seeded random inputs on the real
 * TFLite runtime and compares the outputs bit for bit. All three models run with the same interpreter options
 * (`createInterpreter`'s defaults, one thread), so they run on the same kernels and any difference is the split's.
 */
import { UnsupportedModelError } from '@swapless/core';
import {
  createInterpreter,
  type Interpreter,
  type InterpreterOptions,
  type TensorArray,
} from '@swapless/edgetpu';
import {
  chainParts,
  runnability,
  SeededRandom,
  type SplitBoundary,
  type TfliteModel,
} from '@swapless/tflite';

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
  /** True when every output of every sample is bit-identical. */
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

type ArrayCtor = new (length: number) => TensorArray;

/** A seeded random value for one input: floats in [−1, 1), 8-bit integers over their range, others small. */
function randomInput(info: Interpreter['inputs'][number], rng: SeededRandom): TensorArray {
  const ctor = (globalThis as unknown as Record<string, ArrayCtor | undefined>)[info.arrayType ?? ''];
  if (ctor === undefined) {
    throw new UnsupportedModelError(
      `Expected inputs of a numeric type for --verify but received input "${info.name}" of type ${info.type}`,
    );
  }
  const probe = new ctor(0) as unknown as { BYTES_PER_ELEMENT: number };
  const out = new ctor(info.byteSize / probe.BYTES_PER_ELEMENT) as unknown as {
    [i: number]: number | bigint;
    length: number;
  };
  for (let i = 0; i < out.length; i++) {
    switch (info.type) {
      case 'FLOAT32':
      case 'FLOAT64':
        out[i] = rng.uniform(-1, 1);
        break;
      case 'FLOAT16':
        out[i] = rng.int(0, 0x3bff); // raw bits of a half in [0, 1)
        break;
      case 'INT8':
        out[i] = rng.int(-128, 127);
        break;
      case 'UINT8':
        out[i] = rng.int(0, 255);
        break;
      case 'BOOL':
        out[i] = rng.int(0, 1);
        break;
      default: {
        // Wider integers are often indices or lengths: keep them small so any model accepts them.
        const v = rng.int(0, 9);
        out[i] = info.arrayType === 'BigInt64Array' || info.arrayType === 'BigUint64Array' ? BigInt(v) : v;
      }
    }
  }
  return out as unknown as TensorArray;
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
  models: { whole: Uint8Array; head: Uint8Array | null; tail: Uint8Array | null },
  boundary: SplitBoundary,
  options: InterpreterOptions,
  samples: number,
  seed: number,
): { outputs: OutputVerdict[]; delegates: VerifyReport['delegates'] } {
  const created: Interpreter[] = [];
  const make = (bytes: Uint8Array | null): Interpreter | null => {
    if (bytes === null) return null;
    const it = createInterpreter(bytes, options);
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
      const inputs = whole.inputs.map((info) => randomInput(info, rng));
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
 * thread unless `options.threads` says otherwise, the same for all three) and reports per-output bit-identity and largest difference. When the parts
 * differ, repeats the comparison on TFLite's reference kernels to tell a kernel difference from a split error.
 *
 * @throws UnsupportedModelError when the CPU runtime here cannot run the model (custom op, compiled model).
 */
export function verifySplit(
  model: TfliteModel,
  bytes: Uint8Array,
  parts: { head: Uint8Array | null; tail: Uint8Array | null },
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
  const models = { whole: bytes, ...parts };
  const threads = options.threads ?? 1;
  const first = compare(models, boundary, { threads }, samples, seed);
  const identical = first.outputs.every((o) => o.identical);
  let referenceKernels: VerifyReport['referenceKernels'] = null;
  if (!identical) {
    const ref = compare(models, boundary, { threads, xnnpack: false }, samples, seed);
    referenceKernels = { identical: ref.outputs.every((o) => o.identical), outputs: ref.outputs };
  }
  return { identical, samples, seed, delegates: first.delegates, outputs: first.outputs, referenceKernels };
}
