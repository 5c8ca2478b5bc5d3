/**
 * Building one zoo model in memory: name validation, the seeded {@link GraphBuilder}, and the model's
 * tensor-level result. Deterministic: the same name, seed and input size give byte-identical `writeModel`
 * output, because the builder draws every weight from a seeded generator in call order.
 */
import { expected, InvalidArgumentError } from '@swapless/core';
import { GraphBuilder } from '@swapless/int8-builder';
import type { TfliteModel } from '@swapless/tflite';
import { architectureOf, ZOO_MODEL_NAMES, ZOO_MODELS, type ZooModelName } from './registry.js';

/** Options of {@link buildZooModel}. */
export interface BuildZooModelOptions {
  /** Seed of the weight generator. Default 0. Another seed gives other weights, the same architecture. */
  seed?: number;
  /**
   * Square input size in pixels. Default: the registry's input size. Another size builds the same
   * architecture at that resolution (used to compare MACs with figures published at another resolution).
   */
  inputSize?: number;
  /**
   * Width (depth) multiplier, for the architectures that define one: `mobilenet_v1` (TF-slim
   * depth_multiplier, e.g. 0.25 for Coral's mobilenet_v1_0.25_128). Default 1; another model refuses any
   * other value.
   */
  depthMultiplier?: number;
}

/** Models whose architecture takes a width (depth) multiplier. */
const DEPTH_MULTIPLIER_MODELS: readonly ZooModelName[] = ['mobilenet_v1'];

/** True when `name` is one of {@link ZOO_MODEL_NAMES}. */
export function isZooModelName(name: unknown): name is ZooModelName {
  return typeof name === 'string' && (ZOO_MODEL_NAMES as readonly string[]).includes(name);
}

/** Throws the house-style InvalidArgumentError unless `name` is a zoo model name. */
export function assertZooModelName(name: unknown): asserts name is ZooModelName {
  if (!isZooModelName(name)) {
    throw new InvalidArgumentError(expected(`one of ${ZOO_MODEL_NAMES.join(', ')}`, 'model name', name), {
      details: { name, allowed: [...ZOO_MODEL_NAMES] },
    });
  }
}

function checkSeed(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new InvalidArgumentError(expected('a non-negative safe integer', 'zoo seed', seed));
  }
  return seed;
}

/**
 * Builds a zoo model: a fully int8-quantized TFLite model (int8 input scale 1/128, per-channel int8 weights,
 * int32 biases, int8 activations, softmax output) with the architecture of {@link ZOO_MODELS}[name] and
 * random weights from `seed`. Throws InvalidArgumentError (`SWAPLESS_INVALID_ARGUMENT`) for an unknown name,
 * a bad seed, input size or depth multiplier.
 */
export function buildZooModel(name: ZooModelName, options: BuildZooModelOptions = {}): TfliteModel {
  assertZooModelName(name);
  const seed = checkSeed(options.seed ?? 0);
  const info = ZOO_MODELS[name];
  const size = options.inputSize ?? info.inputShape[1];
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 64 || size > 1024) {
    throw new InvalidArgumentError(expected('an integer between 64 and 1024', `${name} input size`, size));
  }
  const depth = options.depthMultiplier ?? 1;
  if (typeof depth !== 'number' || !(depth > 0 && depth <= 4)) {
    throw new InvalidArgumentError(expected('a number in (0, 4]', `${name} depth multiplier`, depth));
  }
  if (depth !== 1 && !DEPTH_MULTIPLIER_MODELS.includes(name)) {
    throw new InvalidArgumentError(
      expected(`depth multiplier 1 (only ${DEPTH_MULTIPLIER_MODELS.join(', ')} take another)`, name, depth),
    );
  }
  const b = new GraphBuilder({ seed, name });
  b.output(architectureOf(name)(b, size, depth));
  return b.build();
}
