/**
 * What `run` and `demo` share: deterministic inputs, invoke timing and output summaries. Every time printed
 * from here was measured on this machine; `backendLabel` says on what.
 */
import type { TensorArray } from '@swapless/contracts';
import { quantile, UnsupportedModelError } from '@swapless/core';
import {
  type BackendInfo,
  type Interpreter,
  seededInput,
  type TensorInfo,
  zeroInput,
} from '@swapless/edgetpu';
import { SeededRandom } from '@swapless/tflite';

/** How input tensors are filled. */
export type InputMode = 'random' | 'zero';

/**
 * One array per input tensor, in input order: zeros, or the next seeded inputs of `rng` (`seededInput` of
 * @swapless/edgetpu, the generator every SwapLess command uses). `what` names what needs the inputs in the error for
 * a tensor of a type no typed array carries (strings).
 */
export function inputsFor(
  infos: readonly TensorInfo[],
  source: 'zero' | SeededRandom,
  what: string,
): TensorArray[] {
  return infos.map((info) => {
    const a = source === 'zero' ? zeroInput(info) : seededInput(info, source);
    if (a !== null) return a;
    throw new UnsupportedModelError(
      `Expected inputs of a numeric type for ${what} but received input "${info.name}" of type ${info.type}`,
      { details: { input: info.name, type: info.type } },
    );
  });
}

/** One deterministic array per input of the interpreter, in input order (the same for a seed on every machine). */
export function makeInputs(interpreter: Interpreter, mode: InputMode, seed: number): TensorArray[] {
  return inputsFor(interpreter.inputs, mode === 'zero' ? 'zero' : new SeededRandom(seed), 'the model');
}

/** Invoke-time statistics in milliseconds. */
export interface Timing {
  runs: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  meanMs: number;
}

/** Times `fn` `repeat` times after `warmup` untimed calls. */
export function timeRuns(fn: () => void, repeat: number, warmup: number): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  samples.sort((x, y) => x - y);
  return {
    runs: repeat,
    medianMs: quantile(samples, 0.5, 'nearest-rank'),
    p90Ms: quantile(samples, 0.9, 'nearest-rank'),
    minMs: samples[0] ?? 0,
    meanMs: samples.reduce((s, x) => s + x, 0) / Math.max(1, samples.length),
  };
}

/**
 * Where a measured time came from, e.g. "measured: TFLite CPU (XNNPACK, 2 threads)" or, for a uint8 model run as
 * its int8 rewrite, "measured: TFLite CPU (XNNPACK, uint8 as int8, 1 thread)".
 */
export function backendLabel(b: BackendInfo): string {
  const kernels = b.kernels === 'xnnpack' ? `XNNPACK${b.int8 ? ', uint8 as int8' : ''}` : 'reference kernels';
  const cpu = `${kernels}, ${b.threads} thread${b.threads === 1 ? '' : 's'}`;
  return b.edgetpu ? `measured: Edge TPU delegate + TFLite CPU (${cpu})` : `measured: TFLite CPU (${cpu})`;
}

/** Summary of one output tensor. */
export interface OutputSummary {
  name: string;
  type: string;
  shape: readonly number[];
  min: number;
  max: number;
  mean: number;
  first: number[];
}

/** Min, max, mean and the first values of an output. */
export function summarize(info: TensorInfo, data: TensorArray): OutputSummary {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  const values = data as unknown as ArrayLike<number | bigint>;
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const first: number[] = [];
  for (let i = 0; i < Math.min(5, values.length); i++) first.push(Number(values[i]));
  return {
    name: info.name,
    type: info.type,
    shape: info.shape,
    min,
    max,
    mean: values.length ? sum / values.length : 0,
    first,
  };
}

/** Formats a millisecond figure with three significant decimals. */
export function ms(x: number): string {
  return x >= 100 ? x.toFixed(1) : x >= 1 ? x.toFixed(3) : x.toFixed(4);
}
