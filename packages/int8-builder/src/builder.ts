/**
 * An int8 graph builder: constructs fully int8-quantized TFLite models (as {@link TfliteModel} objects) the way
 * the TFLite converter emits Edge-TPU-ready models — int8 activations with per-tensor scale/zero point,
 * per-channel symmetric int8 weights, int32 biases with scale = input scale · weight scale — with random,
 * seeded weights. Quantization ranges are chosen from per-channel activation statistics propagated through
 * the actual generated weights (builder-quant.ts), so random inputs exercise the whole int8 range without
 * saturating. Quantization is resolved lazily in {@link GraphBuilder.build}: ops that the spec requires to
 * share one scale (pooling, reshape, pad, concatenation) are tied together first, then each tied group gets
 * one (scale, zero point) covering all its members.
 *
 * Facts cited (TFLite 8-bit quantization specification, tensorflow.org/lite/performance/quantization_spec):
 * per-axis weights are symmetric int8 in [−127, 127] with zero point 0 on dimension 0 (CONV_2D) or 3
 * (DEPTHWISE_CONV_2D); FULLY_CONNECTED weights are per-tensor; bias int32 with scale input·weight and zero
 * point 0; AVERAGE_POOL_2D, MAX_POOL_2D, CONCATENATION, PAD and RESHAPE restrict inputs and output to the same
 * scale and zero point; SOFTMAX and LOGISTIC outputs are fixed to scale 1/256, zero point −128.
 */

import { describeValue, InvalidArgumentError, positiveInt, SeededRandom } from '@swapless/core';
import {
  BuiltinOperator,
  type BuiltinOptions,
  type BuiltinOptionsName,
  BuiltinOptionsType,
  getOptionsSpec,
  type ModelBuffer,
  type Operator,
  type OperatorCode,
  type Quantization,
  type Tensor,
  TensorType,
  type TfliteModel,
} from '@swapless/tflite';
import {
  type ActivationKind,
  applyActivation,
  type ChannelStats,
  expandStats,
  type Int8Quant,
  pooledStats,
  quantForRange,
  type Range,
  restrideStats,
  statsRange,
  uniformStats,
  unionRange,
} from './builder-quant.js';

// ---------------------------------------------------------------------------------------------------------------
// Public types

/** An activation tensor produced by a {@link GraphBuilder}; pass it to further builder calls. */
export interface TensorHandle {
  /** Index of the tensor in the built subgraph. */
  readonly index: number;
  /** The tensor's name in the built model. */
  readonly name: string;
  /** The tensor's static shape (NHWC for feature maps). */
  readonly shape: readonly number[];
}

/** Fused activation of conv, depthwise, fully connected, add and mul. */
export type FusedActivation = 'none' | 'relu' | 'relu6';

/** TFLite padding: SAME keeps ⌈in/stride⌉, VALID keeps ⌈(in − effective kernel + 1)/stride⌉. */
export type Padding = 'same' | 'valid';

/** A size given once for both spatial axes, or as [height, width]. */
export type Size2 = number | readonly [number, number];

/** Element type of a model input or output at the graph boundary. */
export type BoundaryType = 'int8' | 'uint8' | 'float32';

/** Options of the {@link GraphBuilder} constructor. */
export interface GraphBuilderOptions {
  /** PRNG seed for weights and biases: same calls + same seed → byte-identical models. Default 0. */
  seed?: number;
  /** Subgraph name and model description. Default "swapless-model". */
  name?: string;
  /**
   * Target RMS of every conv/depthwise/fully-connected pre-activation, as a batch-normalised network keeps
   * it (weights are scaled to reach it given the input's estimated statistics). Default 1.5.
   */
  gain?: number;
}

/** Options of {@link GraphBuilder.input}. */
export interface InputOptions {
  /** Type of the graph input tensor. Default 'int8'. 'uint8' and 'float32' add a QUANTIZE op to int8. */
  type?: BoundaryType;
  /** int8/uint8: scale of the input tensor. Default 1/128 (real range ≈ [−1, 1)). */
  scale?: number;
  /** int8/uint8: zero point of the input tensor. Default 0 (int8) or 128 (uint8). */
  zeroPoint?: number;
  /** float32: the real range the QUANTIZE op maps onto int8. Default [−1, 1]. */
  range?: readonly [number, number];
}

/** Options of {@link GraphBuilder.output}. */
export interface OutputOptions {
  /** Type of the graph output. Default 'int8'; 'uint8' adds a QUANTIZE op, 'float32' a DEQUANTIZE op. */
  type?: BoundaryType;
  /** Renames the output tensor (int8) or names the converted tensor (uint8/float32). */
  name?: string;
}

/** Options common to every op: the layer name (tensor names derive from it). Auto-named when absent. */
export interface LayerOptions {
  /** Layer name, unique within the model; default like Keras: "conv2d", "conv2d_1", … */
  name?: string;
}

/** Options of {@link GraphBuilder.conv2d}. */
export interface Conv2DSpec extends LayerOptions {
  /** Number of output channels. */
  filters: number;
  /** Kernel size. */
  kernel: Size2;
  /** Stride. Default 1. */
  stride?: Size2;
  /** Default 'same'. */
  padding?: Padding;
  /** Dilation. Default 1. */
  dilation?: Size2;
  /** Default 'none'. */
  activation?: FusedActivation;
}

/** Options of {@link GraphBuilder.depthwiseConv2d}. */
export interface DepthwiseConv2DSpec extends LayerOptions {
  /** Kernel size. */
  kernel: Size2;
  /** Default 1. */
  stride?: Size2;
  /** Output channels per input channel. Default 1. */
  multiplier?: number;
  /** Default 'same'. */
  padding?: Padding;
  /** Default 1. */
  dilation?: Size2;
  /** Default 'none'. */
  activation?: FusedActivation;
}

/** Options of {@link GraphBuilder.fullyConnected}. */
export interface FullyConnectedSpec extends LayerOptions {
  /** Number of output units. */
  units: number;
  /** Default 'none'. */
  activation?: FusedActivation;
}

/** Options of {@link GraphBuilder.maxPool2d} and {@link GraphBuilder.avgPool2d}. */
export interface Pool2DSpec extends LayerOptions {
  /** Pooling window. */
  size: Size2;
  /** Default = size. */
  stride?: Size2;
  /** Default 'valid'. */
  padding?: Padding;
}

/** Options of {@link GraphBuilder.add} and {@link GraphBuilder.mul}. */
export interface BinarySpec extends LayerOptions {
  /** Default 'none'. */
  activation?: FusedActivation;
}

/** Options of {@link GraphBuilder.batchNorm}. */
export interface BatchNormSpec extends LayerOptions {
  /** Fused activation of the ADD that ends the batch norm. Default 'none'. */
  activation?: FusedActivation;
}

/** Options of {@link GraphBuilder.concatenation}. */
export interface ConcatenationSpec extends LayerOptions {
  /** Axis to concatenate on; negative counts from the end. Default −1 (channels). */
  axis?: number;
}

/** Options of {@link GraphBuilder.mean}. */
export interface MeanSpec extends LayerOptions {
  /** Axes to reduce. Default [1, 2] (global average pool of NHWC). */
  axes?: readonly number[];
  /** Keep reduced axes as size 1. Default false (as Keras' GlobalAveragePooling2D converts). */
  keepDims?: boolean;
}

/** Options of {@link GraphBuilder.softmax}. */
export interface SoftmaxSpec extends LayerOptions {
  /** Default 1. */
  beta?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Constants

/**
 * Operator code versions, as TFLite's op_version.cc assigns them to int8 ops (and accepted by the 2.9
 * runtime's builtin resolver). MUL is 3 instead of 2 when in1·in2/out ≥ 1 (decided at build time).
 */
export const INT8_OP_VERSIONS: Readonly<Record<string, number>> = Object.freeze({
  ADD: 2,
  AVERAGE_POOL_2D: 2,
  CONCATENATION: 2,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 3,
  DEQUANTIZE: 2,
  FULLY_CONNECTED: 4,
  HARD_SWISH: 1,
  LOGISTIC: 2,
  MAX_POOL_2D: 2,
  MEAN: 2,
  MUL: 2,
  PAD: 2,
  QUANTIZE: 1,
  RESHAPE: 1,
  SOFTMAX: 2,
});

/** Fixed output quantization of int8 SOFTMAX and LOGISTIC (quantization spec). */
const PROBABILITY_QUANT: Int8Quant = { scale: 1 / 256, zeroPoint: -128 };

const ACTIVATION_CODE: Readonly<Record<FusedActivation, number>> = { none: 0, relu: 1, relu6: 3 };
const PADDING_CODE: Readonly<Record<Padding, number>> = { same: 0, valid: 1 };

/** Fan-in from which weight statistics use the mean input moment instead of per-element sums. */
const EXACT_FAN_IN = 256;

/** Spatial correlation assumed between positions averaged by pooling/mean (reduces less than 1/n). */
const SPATIAL_CORRELATION = 0.1;

// ---------------------------------------------------------------------------------------------------------------
// Internal records

interface DeferredBias {
  /** Real bias values. */
  values: Float64Array;
  /** The activation tensor whose scale multiplies the weight scales. */
  input: number;
  /** Per-channel (or single) weight scales, float32. */
  weightScales: Float32Array;
}

interface TensorRec {
  handle: TensorHandle;
  shape: number[];
  type: number;
  /** Int8 activations take part in quantization groups; boundary/const tensors do not. */
  activation: boolean;
  /** Constant bytes. */
  data?: Uint8Array;
  /** Quantization of a constant (weights). */
  constQuant?: Quantization;
  /** Dequantized values of a constant vector operand of an element-wise op (batch norm). */
  constValues?: Float64Array;
  /** A bias whose int32 values depend on the input activation's resolved scale. */
  bias?: DeferredBias;
  /** Activation statistics (int8 activations). */
  stats?: ChannelStats;
  /** Own estimated real range (int8 activations). */
  range?: Range;
  /** Quantization imposed on this tensor (graph inputs, softmax/logistic outputs). */
  fixed?: Int8Quant;
  /** Boundary tensor whose quantization mirrors an int8 activation (uint8: zero point + 128). */
  mirror?: { of: number; zeroPointOffset: number };
}

interface OpRec {
  code: number;
  /** Fixed version, or 'mul' to decide from scales at build time. */
  version: number | 'mul';
  inputs: number[];
  outputs: number[];
  options?: BuiltinOptions;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation helpers

function fail(what: string, forWhat: string, received: string, details?: Record<string, unknown>): never {
  throw new InvalidArgumentError(
    `Expected ${what} for ${forWhat} but received ${received}`,
    details === undefined ? undefined : { details },
  );
}

function requireSpec<T>(spec: T, forWhat: string): T {
  if (typeof spec !== 'object' || spec === null) fail('an options object', forWhat, describeValue(spec));
  return spec;
}

function showShape(shape: readonly number[]): string {
  return `shape [${shape.join(', ')}]`;
}

function pair(value: Size2 | undefined, fallback: number, forWhat: string): [number, number] {
  if (value === undefined) return [fallback, fallback];
  if (typeof value === 'number') {
    const v = positiveInt(value, forWhat);
    return [v, v];
  }
  if (!Array.isArray(value) || value.length !== 2) {
    fail('a positive integer or a [height, width] pair', forWhat, describeValue(value));
  }
  return [positiveInt(value[0], `${forWhat} (height)`), positiveInt(value[1], `${forWhat} (width)`)];
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T, forWhat: string): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(`one of ${allowed.map((a) => `'${a}'`).join(', ')}`, forWhat, describeValue(value));
  }
  return value as T;
}

/** TFLite's output size of one spatial axis (ComputeOutSize in kernels/padding.h). */
function outSize(
  input: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: Padding,
  forWhat: string,
): number {
  const effective = (kernel - 1) * dilation + 1;
  if (padding === 'same') return Math.ceil(input / stride);
  if (input < effective) {
    fail(`an input size of at least the effective kernel size ${effective}`, forWhat, `${input}`);
  }
  return Math.floor((input - effective) / stride) + 1;
}

/** The validated sliding window of a conv or depthwise layer and its output size. */
interface ConvWindow {
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  act: FusedActivation;
  /** Conv2DOptions / DepthwiseConv2DOptions fields shared by both ops. */
  options: Record<string, number>;
}

/** Validates a conv or depthwise spec's kernel, stride, dilation, padding and activation over an h × w input. */
function convWindow(
  spec: Conv2DSpec | DepthwiseConv2DSpec,
  h: number,
  w: number,
  forWhat: string,
): ConvWindow {
  const [kh, kw] = pair(spec.kernel, 1, `${forWhat} kernel`);
  const [sh, sw] = pair(spec.stride, 1, `${forWhat} stride`);
  const [dh, dw] = pair(spec.dilation, 1, `${forWhat} dilation`);
  const padding = oneOf(spec.padding, ['same', 'valid'] as const, 'same', `${forWhat} padding`);
  const act = oneOf(spec.activation, ['none', 'relu', 'relu6'] as const, 'none', `${forWhat} activation`);
  const oh = outSize(h, kh, sh, dh, padding, `${forWhat} input height`);
  const ow = outSize(w, kw, sw, dw, padding, `${forWhat} input width`);
  const options = {
    padding: PADDING_CODE[padding],
    strideW: sw,
    strideH: sh,
    fusedActivationFunction: ACTIVATION_CODE[act],
    dilationWFactor: dw,
    dilationHFactor: dh,
  };
  return { kh, kw, oh, ow, act, options };
}

function product(shape: readonly number[]): number {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}

function int32Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setInt32(i * 4, values[i]!, true);
  return out;
}

function sameQuant(a: Int8Quant, b: Int8Quant): boolean {
  return Math.fround(a.scale) === Math.fround(b.scale) && a.zeroPoint === b.zeroPoint;
}

// ---------------------------------------------------------------------------------------------------------------
// The builder

/**
 * Builds a fully int8-quantized TFLite model op by op. Every op method validates its arguments (throwing
 * `InvalidArgumentError` with code `SWAPLESS_INVALID_ARGUMENT`), computes the output shape exactly as TFLite
 * does, draws the op's weights from the builder's seeded PRNG, and returns a handle to the output.
 *
 * @example
 * const b = new GraphBuilder({ seed: 42, name: 'tiny' });
 * let x = b.input('input', [1, 32, 32, 3]);
 * x = b.conv2d(x, { filters: 16, kernel: 3, stride: 2, activation: 'relu6' });
 * x = b.add(x, b.conv2d(x, { filters: 16, kernel: 1 }));
 * b.output(b.softmax(b.fullyConnected(b.mean(x), { units: 10 })));
 * const model = b.build();
 */
export class GraphBuilder {
  readonly #rng: SeededRandom;
  readonly #name: string;
  readonly #gain: number;
  readonly #tensors: TensorRec[] = [];
  readonly #ops: OpRec[] = [];
  readonly #inputs: number[] = [];
  readonly #outputs: number[] = [];
  /** Union-find parent of each tensor (quantization groups). */
  readonly #parent: number[] = [];
  /** Fixed quantization of each group root that has one. */
  readonly #rootFixed = new Map<number, Int8Quant>();
  readonly #tensorNames = new Set<string>();
  readonly #layerNames = new Set<string>();
  readonly #kindCounts = new Map<string, number>();
  #parameterBytes = 0;

  /** @param options seed, name and gain; all optional. */
  constructor(options: GraphBuilderOptions = {}) {
    const seed = options.seed ?? 0;
    if (typeof seed !== 'number' || !Number.isFinite(seed))
      fail('a finite number', 'seed', describeValue(seed));
    const gain = options.gain ?? 1.5;
    if (typeof gain !== 'number' || !(gain > 0) || !Number.isFinite(gain)) {
      fail('a positive number', 'gain', describeValue(gain));
    }
    this.#rng = new SeededRandom(seed);
    this.#name = options.name ?? 'swapless-model';
    this.#gain = gain;
  }

  /** Number of operators added so far. */
  get opCount(): number {
    return this.#ops.length;
  }

  /** Number of tensors (activations and constants) added so far. */
  get tensorCount(): number {
    return this.#tensors.length;
  }

  /** Bytes of constant data (weights, biases, shape/axes tensors) added so far. */
  get parameterBytes(): number {
    return this.#parameterBytes;
  }

  // ----- graph boundary

  /**
   * Declares a graph input and returns the int8 activation to build on. For 'uint8' or 'float32' inputs the
   * graph input has that type and a QUANTIZE op converts it, as the converter does for
   * `inference_input_type`.
   */
  input(name: string, shape: readonly number[], options: InputOptions = {}): TensorHandle {
    const forWhat = `input "${name}"`;
    if (typeof name !== 'string' || name.length === 0)
      fail('a non-empty string', 'input name', describeValue(name));
    this.#checkShape(shape, forWhat);
    const type = oneOf(options.type, ['int8', 'uint8', 'float32'] as const, 'int8', `${forWhat} type`);
    let quant: Int8Quant;
    if (type === 'float32') {
      const range = options.range ?? [-1, 1];
      if (!Array.isArray(range) || range.length !== 2 || !(range[0] < range[1])) {
        fail('a [min, max] range with min < max', `${forWhat} range`, describeValue(range));
      }
      quant = quantForRange({ lo: range[0], hi: range[1] });
    } else {
      const scale = options.scale ?? 1 / 128;
      if (typeof scale !== 'number' || !(scale > 0) || !Number.isFinite(scale)) {
        fail('a positive finite number', `${forWhat} scale`, describeValue(scale));
      }
      const zp = options.zeroPoint ?? (type === 'uint8' ? 128 : 0);
      const [zmin, zmax] = type === 'uint8' ? [0, 255] : [-128, 127];
      if (typeof zp !== 'number' || !Number.isInteger(zp) || zp < zmin || zp > zmax) {
        fail(`an integer in [${zmin}, ${zmax}]`, `${forWhat} zero point`, describeValue(zp));
      }
      quant = { scale: Math.fround(scale), zeroPoint: type === 'uint8' ? zp - 128 : zp };
    }
    // A random input is uniform over the representable range: its statistics seed the estimates.
    const lo = quant.scale * (-128 - quant.zeroPoint);
    const hi = quant.scale * (127 - quant.zeroPoint);
    const last = shape[shape.length - 1]!;
    const stats = restrideStats(uniformStats((lo + hi) / 2, ((hi - lo) * (hi - lo)) / 12), last);
    if (type === 'int8') {
      const t = this.#activation(this.#uniqueTensorName(name), shape, stats, { lo, hi }, quant);
      this.#inputs.push(t);
      return this.#tensors[t]!.handle;
    }
    const raw = this.#addTensor({
      name: this.#uniqueTensorName(name),
      shape: [...shape],
      type: type === 'uint8' ? TensorType.UINT8 : TensorType.FLOAT32,
      activation: false,
    });
    this.#inputs.push(raw);
    const q = this.#activation(this.#uniqueTensorName(`${name}/int8`), shape, stats, { lo, hi }, quant);
    if (type === 'uint8') this.#tensors[raw]!.mirror = { of: q, zeroPointOffset: 128 };
    this.#op('QUANTIZE', [raw], [q], 'QuantizeOptions', {});
    return this.#tensors[q]!.handle;
  }

  /**
   * Marks a tensor as a graph output (in call order). 'uint8' adds a QUANTIZE op and 'float32' a DEQUANTIZE
   * op after it. Returns the handle of the tensor that is the graph output.
   */
  output(tensor: TensorHandle, options: OutputOptions = {}): TensorHandle {
    const t = this.#int8(tensor, 'output');
    const type = oneOf(options.type, ['int8', 'uint8', 'float32'] as const, 'int8', 'output type');
    const rec = this.#tensors[t]!;
    if (type === 'int8') {
      if (options.name !== undefined && options.name !== rec.handle.name) this.#rename(t, options.name);
      this.#outputs.push(t);
      return this.#tensors[t]!.handle;
    }
    const name = this.#uniqueTensorName(options.name ?? `${rec.handle.name}/${type}`);
    const out = this.#addTensor({
      name,
      shape: [...rec.shape],
      type: type === 'uint8' ? TensorType.UINT8 : TensorType.FLOAT32,
      activation: false,
    });
    if (type === 'uint8') {
      this.#tensors[out]!.mirror = { of: t, zeroPointOffset: 128 };
      this.#op('QUANTIZE', [t], [out], 'QuantizeOptions', {});
    } else {
      this.#op('DEQUANTIZE', [t], [out], 'DequantizeOptions', {});
    }
    this.#outputs.push(out);
    return this.#tensors[out]!.handle;
  }

  // ----- convolutions and fully connected

  /** CONV_2D (v3): filter [O, KH, KW, I] int8 per-channel (dimension 0), bias int32, optional fused activation. */
  conv2d(x: TensorHandle, spec: Conv2DSpec): TensorHandle {
    const { layer, forWhat, xi, n, h, w, c } = this.#spatialInput(x, spec, 'conv2d', 'conv2d');
    const filters = positiveInt(spec.filters, `${forWhat} filters`);
    const { kh, kw, oh, ow, act, options } = convWindow(spec, h, w, forWhat);

    const fanIn = kh * kw * c;
    const q = new Int8Array(filters * fanIn);
    const inStats = expandStats(this.#tensors[xi]!.stats!, c);
    const { scales, bias, pre } = this.#denseStats(q, filters, fanIn, (idx) => idx % c, inStats, true);

    const weights = this.#constInt8(`${layer}/kernel`, [filters, kh, kw, c], q, scales, 0);
    const b = this.#biasTensor(`${layer}/bias`, bias, xi, scales);
    const out = this.#activationFrom(layer, [n, oh, ow, filters], pre, act);
    this.#op('CONV_2D', [xi, weights, b], [out], 'Conv2DOptions', options);
    return this.#tensors[out]!.handle;
  }

  /** DEPTHWISE_CONV_2D (v3): filter [1, KH, KW, C·mult] int8 per-channel (dimension 3), bias int32. */
  depthwiseConv2d(x: TensorHandle, spec: DepthwiseConv2DSpec): TensorHandle {
    const { layer, forWhat, xi, n, h, w, c } = this.#spatialInput(
      x,
      spec,
      'depthwise_conv2d',
      'depthwiseConv2d',
    );
    const mult = spec.multiplier === undefined ? 1 : positiveInt(spec.multiplier, `${forWhat} multiplier`);
    const { kh, kw, oh, ow, act, options } = convWindow(spec, h, w, forWhat);

    const cOut = c * mult;
    const taps = kh * kw;
    const q = new Int8Array(taps * cOut);
    this.#rng.fillTriangularInt8(q);
    const inStats = expandStats(this.#tensors[xi]!.stats!, c);
    // Accumulate per output channel; layout [1, KH, KW, C·mult], output channel oc reads input oc / mult.
    const sumQMu = new Float64Array(cOut);
    const sumQ2Var = new Float64Array(cOut);
    const sumQ2E2 = new Float64Array(cOut);
    const sumQ2 = new Float64Array(cOut);
    let idx = 0;
    for (let k = 0; k < taps; k++) {
      for (let oc = 0; oc < cOut; oc++) {
        const v = q[idx++]!;
        const ic = (oc / mult) | 0;
        const mu = inStats.mean[ic]!;
        const va = inStats.variance[ic]!;
        const v2 = v * v;
        sumQMu[oc]! += v * mu;
        sumQ2Var[oc]! += v2 * va;
        sumQ2E2[oc]! += v2 * (va + mu * mu);
        sumQ2[oc]! += v2;
      }
    }
    const { scales, bias, pre } = this.#finishChannels(sumQMu, sumQ2Var, sumQ2E2, sumQ2, true);

    const weights = this.#constInt8(`${layer}/depthwise_kernel`, [1, kh, kw, cOut], q, scales, 3);
    const b = this.#biasTensor(`${layer}/bias`, bias, xi, scales);
    const out = this.#activationFrom(layer, [n, oh, ow, cOut], pre, act);
    this.#op('DEPTHWISE_CONV_2D', [xi, weights, b], [out], 'DepthwiseConv2DOptions', {
      ...options,
      depthMultiplier: mult,
    });
    return this.#tensors[out]!.handle;
  }

  /**
   * FULLY_CONNECTED (v4): weights [units, in] int8 with one per-tensor scale (the quantization spec's
   * FULLY_CONNECTED weights are per-tensor), bias int32. The input's last axis is `in`; the output is
   * [batch, units] with batch = elements / in (keep_num_dims false).
   */
  fullyConnected(x: TensorHandle, spec: FullyConnectedSpec): TensorHandle {
    const layer = this.#layerName(requireSpec(spec, 'dense').name, 'dense');
    const forWhat = `fullyConnected "${layer}"`;
    const xi = this.#int8(x, `${forWhat} input`);
    const shape = this.#tensors[xi]!.shape;
    if (shape.length < 2) fail('a tensor of rank 2 or more', `${forWhat} input`, showShape(shape));
    const units = positiveInt(spec.units, `${forWhat} units`);
    const act = oneOf(spec.activation, ['none', 'relu', 'relu6'] as const, 'none', `${forWhat} activation`);
    const inDim = shape[shape.length - 1]!;
    const batch = product(shape) / inDim;

    const q = new Int8Array(units * inDim);
    const inStats = expandStats(this.#tensors[xi]!.stats!, inDim);
    const { scales, bias, pre } = this.#denseStats(q, units, inDim, (i) => i, inStats, false);

    const weights = this.#constInt8(`${layer}/kernel`, [units, inDim], q, scales, 0);
    const b = this.#biasTensor(`${layer}/bias`, bias, xi, scales);
    const out = this.#activationFrom(layer, [batch, units], pre, act);
    this.#op('FULLY_CONNECTED', [xi, weights, b], [out], 'FullyConnectedOptions', {
      fusedActivationFunction: ACTIVATION_CODE[act],
      weightsFormat: 0,
      keepNumDims: false,
      asymmetricQuantizeInputs: false,
    });
    return this.#tensors[out]!.handle;
  }

  // ----- element-wise

  /** ADD (v2) with NumPy-style broadcasting (rank ≤ 4), optional fused activation. */
  add(a: TensorHandle, b: TensorHandle, spec: BinarySpec = {}): TensorHandle {
    return this.#binary('ADD', 'add', a, b, spec);
  }

  /** MUL (v2, v3 when in1·in2/out ≥ 1) with NumPy-style broadcasting (rank ≤ 4), e.g. squeeze-excitation. */
  mul(a: TensorHandle, b: TensorHandle, spec: BinarySpec = {}): TensorHandle {
    return this.#binary('MUL', 'multiply', a, b, spec);
  }

  /** LOGISTIC (v2): output quantization fixed at scale 1/256, zero point −128. */
  logistic(x: TensorHandle, spec: LayerOptions = {}): TensorHandle {
    const layer = this.#layerName(spec.name, 'logistic');
    const xi = this.#int8(x, `logistic "${layer}" input`);
    const r = applyActivation(this.#tensors[xi]!.stats!, 'logistic');
    const out = this.#activation(this.#uniqueTensorName(layer), this.#tensors[xi]!.shape, r.stats, r.range, {
      ...PROBABILITY_QUANT,
    });
    this.#op('LOGISTIC', [xi], [out]);
    return this.#tensors[out]!.handle;
  }

  /** HARD_SWISH (v1): x · relu6(x + 3) / 6, output quantization from its estimated range. */
  hardSwish(x: TensorHandle, spec: LayerOptions = {}): TensorHandle {
    const layer = this.#layerName(spec.name, 'hard_swish');
    const xi = this.#int8(x, `hardSwish "${layer}" input`);
    const out = this.#activationFrom(layer, this.#tensors[xi]!.shape, this.#tensors[xi]!.stats!, 'hardSwish');
    this.#op('HARD_SWISH', [xi], [out], 'HardSwishOptions', {});
    return this.#tensors[out]!.handle;
  }

  /**
   * An inference-mode batch normalization that cannot be folded into a preceding convolution (e.g. the
   * pre-activation of ResNet v2, which follows a residual ADD), as the TFLite converter emits it: MUL by a
   * constant per-channel scale, then ADD of a constant per-channel offset with an optional fused activation.
   * The constants are int8 vectors [C] with per-tensor asymmetric quantization (how the converter quantizes
   * constant operands of element-wise ops). Like a trained batch norm, the scale normalizes each channel of
   * `x` (from its estimated statistics) to a random gain γ ≈ gain·e^±0.3 and the offset gives it a random
   * mean β ∈ ±gain/4. Returns the ADD's output; the MUL's output is named `<name>/mul`.
   */
  batchNorm(x: TensorHandle, spec: BatchNormSpec = {}): TensorHandle {
    const layer = this.#layerName(requireSpec(spec, 'batch_normalization').name, 'batch_normalization');
    const forWhat = `batchNorm "${layer}"`;
    const xi = this.#int8(x, `${forWhat} input`);
    const act = oneOf(spec.activation, ['none', 'relu', 'relu6'] as const, 'none', `${forWhat} activation`);
    const shape = this.#tensors[xi]!.shape;
    const c = shape[shape.length - 1]!;
    const s = expandStats(this.#tensors[xi]!.stats!, c);
    const gain = this.#gain;
    const rng = this.#rng;
    const scale = new Float64Array(c);
    const offset = new Float64Array(c);
    for (let j = 0; j < c; j++) {
      const sd = Math.sqrt(s.variance[j]!);
      const gamma = gain * Math.exp(rng.uniform(-0.3, 0.3));
      const beta = gain * rng.uniform(-0.25, 0.25);
      scale[j] = sd > 1e-9 ? gamma / sd : gamma;
      offset[j] = beta - s.mean[j]! * scale[j]!;
    }
    const scaleT = this.#constVector(`${layer}/scale`, scale);
    const offsetT = this.#constVector(`${layer}/offset`, offset);
    // Statistics with the constants as stored (dequantized), so ranges fit what the kernels compute.
    const qs = this.#tensors[scaleT]!.constValues!;
    const qo = this.#tensors[offsetT]!.constValues!;
    const mulMean = new Float64Array(c);
    const mulVar = new Float64Array(c);
    const addMean = new Float64Array(c);
    for (let j = 0; j < c; j++) {
      mulMean[j] = s.mean[j]! * qs[j]!;
      mulVar[j] = s.variance[j]! * qs[j]! * qs[j]!;
      addMean[j] = mulMean[j]! + qo[j]!;
    }
    const mulOut = this.#activationFrom(`${layer}/mul`, shape, { mean: mulMean, variance: mulVar }, 'none');
    this.#op('MUL', [xi, scaleT], [mulOut], 'MulOptions', { fusedActivationFunction: 0 });
    const out = this.#activationFrom(layer, shape, { mean: addMean, variance: mulVar }, act);
    this.#op('ADD', [mulOut, offsetT], [out], 'AddOptions', {
      fusedActivationFunction: ACTIVATION_CODE[act],
    });
    return this.#tensors[out]!.handle;
  }

  /** SOFTMAX (v2) over the last axis: output quantization fixed at scale 1/256, zero point −128. */
  softmax(x: TensorHandle, spec: SoftmaxSpec = {}): TensorHandle {
    const layer = this.#layerName(spec.name, 'softmax');
    const forWhat = `softmax "${layer}"`;
    const xi = this.#int8(x, `${forWhat} input`);
    const shape = this.#tensors[xi]!.shape;
    if (shape.length > 4) fail('a tensor of rank 1 to 4', `${forWhat} input`, showShape(shape));
    const beta = spec.beta ?? 1;
    if (typeof beta !== 'number' || !(beta > 0) || !Number.isFinite(beta)) {
      fail('a positive finite number', `${forWhat} beta`, describeValue(beta));
    }
    const d = shape[shape.length - 1]!;
    const out = this.#activation(
      this.#uniqueTensorName(layer),
      shape,
      uniformStats(1 / d, 1 / (d * d)),
      { lo: 0, hi: 1 },
      { ...PROBABILITY_QUANT },
    );
    this.#op('SOFTMAX', [xi], [out], 'SoftmaxOptions', { beta });
    return this.#tensors[out]!.handle;
  }

  // ----- pooling and reductions

  /** MAX_POOL_2D (v2); output shares the input's quantization (quantization spec). */
  maxPool2d(x: TensorHandle, spec: Pool2DSpec): TensorHandle {
    return this.#pool('MAX_POOL_2D', 'max_pooling2d', x, spec);
  }

  /** AVERAGE_POOL_2D (v2); output shares the input's quantization (quantization spec). */
  avgPool2d(x: TensorHandle, spec: Pool2DSpec): TensorHandle {
    return this.#pool('AVERAGE_POOL_2D', 'average_pooling2d', x, spec);
  }

  /**
   * MEAN (v2) over `axes` (default [1, 2]: global average pooling of NHWC). Accepts the axes directly or an
   * options object.
   */
  mean(x: TensorHandle, axesOrSpec: readonly number[] | MeanSpec = {}): TensorHandle {
    const spec: MeanSpec = Array.isArray(axesOrSpec) ? { axes: axesOrSpec } : (axesOrSpec as MeanSpec);
    const layer = this.#layerName(spec.name, 'mean');
    const forWhat = `mean "${layer}"`;
    const xi = this.#int8(x, `${forWhat} input`);
    const shape = this.#tensors[xi]!.shape;
    const rank = shape.length;
    const rawAxes = spec.axes ?? [1, 2];
    if (!Array.isArray(rawAxes) || rawAxes.length === 0) {
      fail('a non-empty array of axes', `${forWhat} axes`, describeValue(rawAxes));
    }
    const axes = [
      ...new Set(
        rawAxes.map((a) => {
          if (!Number.isInteger(a) || a < -rank || a >= rank) {
            fail(`an axis in [${-rank}, ${rank - 1}]`, `${forWhat} axes`, describeValue(a));
          }
          return a < 0 ? a + rank : a;
        }),
      ),
    ].sort((p, q) => p - q);
    const keepDims = spec.keepDims ?? false;
    const outShape: number[] = [];
    let n = 1;
    shape.forEach((d, i) => {
      if (axes.includes(i)) {
        n *= d;
        if (keepDims) outShape.push(1);
      } else outShape.push(d);
    });
    if (outShape.length === 0) outShape.push(1);
    let s = this.#tensors[xi]!.stats!;
    if (axes.includes(rank - 1)) s = pooledStats(s);
    const reduction = 1 / n + SPATIAL_CORRELATION * (1 - 1 / n);
    const stats = restrideStats(
      { mean: s.mean, variance: s.variance.map((v) => v * reduction) },
      outShape[outShape.length - 1]!,
    );
    const axesT = this.#constInt32(`${layer}/reduction_indices`, [axes.length], axes);
    const out = this.#activation(this.#uniqueTensorName(layer), outShape, stats, statsRange(stats));
    this.#op('MEAN', [xi, axesT], [out], 'ReducerOptions', { keepDims });
    return this.#tensors[out]!.handle;
  }

  // ----- shape ops (output tied to the input's quantization)

  /** RESHAPE (v1) to `newShape` (one entry may be −1); the output shares the input's quantization. */
  reshape(x: TensorHandle, newShape: readonly number[], spec: LayerOptions = {}): TensorHandle {
    const layer = this.#layerName(spec.name, 'reshape');
    const forWhat = `reshape "${layer}"`;
    const xi = this.#int8(x, `${forWhat} input`);
    const inShape = this.#tensors[xi]!.shape;
    const total = product(inShape);
    if (!Array.isArray(newShape) || newShape.length === 0) {
      fail('a non-empty array of dimensions', `${forWhat} new shape`, describeValue(newShape));
    }
    let inferred = -1;
    let known = 1;
    newShape.forEach((d, i) => {
      if (d === -1 && inferred === -1) inferred = i;
      else if (!Number.isInteger(d) || d < 1) {
        fail('positive integers and at most one −1', `${forWhat} new shape`, `[${newShape.join(', ')}]`);
      } else known *= d;
    });
    const shape = [...newShape];
    if (inferred >= 0) {
      if (total % known !== 0) {
        fail(
          `a shape whose known dimensions divide ${total}`,
          `${forWhat} new shape`,
          `[${newShape.join(', ')}]`,
        );
      }
      shape[inferred] = total / known;
    } else if (known !== total) {
      fail(
        `a shape with ${total} elements`,
        `${forWhat} new shape`,
        `[${newShape.join(', ')}] (${known} elements)`,
      );
    }
    const stats = restrideStats(this.#tensors[xi]!.stats!, shape[shape.length - 1]!);
    const shapeT = this.#constInt32(`${layer}/shape`, [shape.length], shape);
    const out = this.#activation(this.#uniqueTensorName(layer), shape, stats, this.#tensors[xi]!.range!);
    this.#tie(out, xi);
    this.#op('RESHAPE', [xi, shapeT], [out], 'ReshapeOptions', { newShape: shape });
    return this.#tensors[out]!.handle;
  }

  /**
   * PAD (v2) with `paddings[i] = [before, after]` per axis; int8 PAD fills with the zero point (real 0), and
   * the output shares the input's quantization.
   */
  pad(
    x: TensorHandle,
    paddings: readonly (readonly [number, number])[],
    spec: LayerOptions = {},
  ): TensorHandle {
    const layer = this.#layerName(spec.name, 'pad');
    const forWhat = `pad "${layer}"`;
    const xi = this.#int8(x, `${forWhat} input`);
    const shape = this.#tensors[xi]!.shape;
    if (!Array.isArray(paddings) || paddings.length !== shape.length) {
      fail(`${shape.length} [before, after] pairs`, `${forWhat} paddings`, describeValue(paddings));
    }
    const flat: number[] = [];
    const outShape = shape.map((d, i) => {
      const p = paddings[i];
      if (
        !Array.isArray(p) ||
        p.length !== 2 ||
        !p.every((v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0)
      ) {
        fail(
          'a [before, after] pair of non-negative integers',
          `${forWhat} paddings[${i}]`,
          describeValue(p),
        );
      }
      flat.push(p[0], p[1]);
      return d + p[0] + p[1];
    });
    // Padding mixes zeros into every channel: scale the moments by the share of real elements.
    const share = product(shape) / product(outShape);
    const s = this.#tensors[xi]!.stats!;
    const mean = s.mean.map((m) => m * share);
    const variance = s.variance.map((v, j) => {
      const m = s.mean[j]!;
      const e2 = (v + m * m) * share;
      return Math.max(0, e2 - mean[j]! * mean[j]!);
    });
    const padT = this.#constInt32(`${layer}/paddings`, [shape.length, 2], flat);
    const out = this.#activation(
      this.#uniqueTensorName(layer),
      outShape,
      { mean, variance },
      this.#tensors[xi]!.range!,
    );
    this.#tie(out, xi);
    this.#op('PAD', [xi, padT], [out], 'PadOptions', {});
    return this.#tensors[out]!.handle;
  }

  /**
   * CONCATENATION (v2) along `axis`; all inputs and the output share one quantization (quantization spec).
   * Inputs with a fixed quantization (graph inputs, softmax/logistic outputs) are requantized first unless
   * every input shares the same fixed quantization.
   */
  concatenation(inputs: readonly TensorHandle[], spec: ConcatenationSpec = {}): TensorHandle {
    const layer = this.#layerName(spec.name, 'concatenate');
    const forWhat = `concatenation "${layer}"`;
    if (!Array.isArray(inputs) || inputs.length === 0) {
      fail('a non-empty array of tensors', `${forWhat} inputs`, describeValue(inputs));
    }
    const ids = inputs.map((t, i) => this.#int8(t, `${forWhat} input ${i}`));
    const first = this.#tensors[ids[0]!]!.shape;
    const rank = first.length;
    const rawAxis = spec.axis ?? -1;
    if (!Number.isInteger(rawAxis) || rawAxis < -rank || rawAxis >= rank) {
      fail(`an axis in [${-rank}, ${rank - 1}]`, `${forWhat} axis`, describeValue(rawAxis));
    }
    const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
    let axisTotal = 0;
    ids.forEach((id, i) => {
      const s = this.#tensors[id]!.shape;
      const ok = s.length === rank && s.every((d, k) => k === axis || d === first[k]);
      if (!ok) {
        fail(
          `shape [${first.map((d, k) => (k === axis ? '*' : d)).join(', ')}] (all dimensions but axis ${axis} equal)`,
          `${forWhat} input ${i}`,
          showShape(s),
        );
      }
      axisTotal += s[axis]!;
    });
    const outShape = [...first];
    outShape[axis] = axisTotal;

    // The spec wants one quantization for all inputs and the output. When every input already carries the
    // same fixed quantization it is kept; otherwise inputs with a fixed quantization (graph inputs, softmax or
    // logistic outputs) are requantized so the shared quantization can cover every input's range.
    const fixedOf = ids.map((id) => this.#groupFixed(id));
    const f0 = fixedOf[0];
    const allSameFixed = f0 !== undefined && fixedOf.every((f) => f !== undefined && sameQuant(f, f0));
    const tied = ids.map((id, i) =>
      allSameFixed || fixedOf[i] === undefined ? id : this.#requantize(id, `${layer}/requantize_${i}`),
    );

    const stats = this.#concatStats(tied, axis, rank, axisTotal);
    let range: Range = { lo: 0, hi: 0 };
    for (const id of tied) range = unionRange(range, this.#tensors[id]!.range!);
    const out = this.#activation(this.#uniqueTensorName(layer), outShape, stats, range);
    for (const id of tied) this.#tie(out, id);
    this.#op('CONCATENATION', tied, [out], 'ConcatenationOptions', { axis, fusedActivationFunction: 0 });
    return this.#tensors[out]!.handle;
  }

  // ----- build

  /**
   * Resolves quantization (tied groups, int32 biases, MUL versions) and returns the model. May be called
   * again after more ops are added; constant buffers are shared between the returned models.
   */
  build(): TfliteModel {
    if (this.#inputs.length === 0) fail('at least one input', `model "${this.#name}"`, 'none');
    if (this.#outputs.length === 0) fail('at least one output', `model "${this.#name}"`, 'none');
    const quant = this.#resolveGroups();
    const quantOf = (t: number): Int8Quant => quant.get(this.#find(t))!;

    const buffers: ModelBuffer[] = [{}];
    const tensors: Tensor[] = this.#tensors.map((rec) => {
      let buffer = 0;
      let quantization: Quantization | undefined;
      let data = rec.data;
      if (rec.activation) {
        const q = quantOf(rec.handle.index);
        quantization = { scale: [q.scale], zeroPoint: [q.zeroPoint], quantizedDimension: 0 };
      } else if (rec.mirror !== undefined) {
        const q = quantOf(rec.mirror.of);
        quantization = {
          scale: [q.scale],
          zeroPoint: [q.zeroPoint + rec.mirror.zeroPointOffset],
          quantizedDimension: 0,
        };
      } else if (rec.bias !== undefined) {
        const inScale = quantOf(rec.bias.input).scale;
        const values = rec.bias.values;
        const scales = Array.from(rec.bias.weightScales, (w) => Math.fround(inScale * w));
        const ints = Array.from(values, (v, i) => {
          const r = Math.round(v / scales[i]!);
          return Math.max(-2147483647, Math.min(2147483647, r));
        });
        data = int32Bytes(ints);
        quantization = { scale: scales, zeroPoint: scales.map(() => 0), quantizedDimension: 0 };
      } else if (rec.constQuant !== undefined) {
        quantization = rec.constQuant;
      }
      if (data !== undefined) {
        buffer = buffers.length;
        buffers.push({ data });
      }
      const tensor: Tensor = {
        shape: [...rec.shape],
        type: rec.type,
        buffer,
        name: rec.handle.name,
        isVariable: false,
        hasRank: true,
      };
      if (quantization !== undefined) tensor.quantization = quantization;
      return tensor;
    });

    const operatorCodes: OperatorCode[] = [];
    const codeIndex = new Map<string, number>();
    const operators: Operator[] = this.#ops.map((op) => {
      let version: number;
      if (op.version === 'mul') {
        const [a, b] = op.inputs;
        const ratio =
          (this.#scaleOf(a!, quantOf) * this.#scaleOf(b!, quantOf)) / quantOf(op.outputs[0]!).scale;
        version = ratio >= 1 ? 3 : 2;
      } else version = op.version;
      const key = `${op.code}/${version}`;
      let opcodeIndex = codeIndex.get(key);
      if (opcodeIndex === undefined) {
        opcodeIndex = operatorCodes.length;
        codeIndex.set(key, opcodeIndex);
        operatorCodes.push({ builtinCode: op.code, version });
      }
      const operator: Operator = {
        opcodeIndex,
        inputs: [...op.inputs],
        outputs: [...op.outputs],
        customOptionsFormat: 0,
      };
      if (op.options !== undefined) {
        operator.builtinOptions = { ...op.options, fields: { ...op.options.fields } };
      }
      return operator;
    });

    return {
      version: 3,
      operatorCodes,
      subgraphs: [
        { tensors, inputs: [...this.#inputs], outputs: [...this.#outputs], operators, name: this.#name },
      ],
      description: `${this.#name} (SwapLess GraphBuilder)`,
      buffers,
    };
  }

  /** The (first) scale of an activation (resolved group) or of a constant operand. */
  #scaleOf(t: number, quantOf: (t: number) => Int8Quant): number {
    const rec = this.#tensors[t]!;
    return rec.activation ? quantOf(t).scale : (rec.constQuant?.scale?.[0] ?? 1);
  }

  // ----- internals: tensors and ops

  #addTensor(init: { name: string; shape: number[]; type: number; activation: boolean }): number {
    const index = this.#tensors.length;
    const handle: TensorHandle = Object.freeze({
      index,
      name: init.name,
      shape: Object.freeze([...init.shape]),
    });
    this.#tensors.push({ handle, shape: init.shape, type: init.type, activation: init.activation });
    this.#parent.push(index);
    this.#tensorNames.add(init.name);
    return index;
  }

  #activation(
    name: string,
    shape: readonly number[],
    stats: ChannelStats,
    range: Range,
    fixed?: Int8Quant,
  ): number {
    const t = this.#addTensor({ name, shape: [...shape], type: TensorType.INT8, activation: true });
    const rec = this.#tensors[t]!;
    rec.stats = stats;
    rec.range = range;
    if (fixed !== undefined) {
      rec.fixed = fixed;
      this.#rootFixed.set(t, fixed);
    }
    return t;
  }

  /** An activation output of a layer, its range and statistics from pre-activation statistics. */
  #activationFrom(layer: string, shape: readonly number[], pre: ChannelStats, act: ActivationKind): number {
    const r = applyActivation(pre, act);
    return this.#activation(this.#uniqueTensorName(layer), shape, r.stats, r.range);
  }

  #constInt8(name: string, shape: number[], q: Int8Array, scales: Float32Array, dim: number): number {
    const t = this.#addTensor({
      name: this.#uniqueTensorName(name),
      shape,
      type: TensorType.INT8,
      activation: false,
    });
    const rec = this.#tensors[t]!;
    rec.data = new Uint8Array(q.buffer, q.byteOffset, q.byteLength);
    rec.constQuant = {
      scale: Array.from(scales),
      zeroPoint: Array.from(scales, () => 0),
      quantizedDimension: dim,
    };
    this.#parameterBytes += q.byteLength;
    return t;
  }

  #constInt32(name: string, shape: number[], values: readonly number[]): number {
    const t = this.#addTensor({
      name: this.#uniqueTensorName(name),
      shape,
      type: TensorType.INT32,
      activation: false,
    });
    this.#tensors[t]!.data = int32Bytes(values);
    this.#parameterBytes += values.length * 4;
    return t;
  }

  /** A constant int8 vector [n] with per-tensor asymmetric quantization covering its values and 0. */
  #constVector(name: string, values: Float64Array): number {
    let lo = 0;
    let hi = 0;
    for (const v of values) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const quant = quantForRange({ lo, hi });
    const q = new Int8Array(values.length);
    const deq = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = Math.max(-128, Math.min(127, Math.round(values[i]! / quant.scale) + quant.zeroPoint));
      q[i] = v;
      deq[i] = quant.scale * (v - quant.zeroPoint);
    }
    const t = this.#addTensor({
      name: this.#uniqueTensorName(name),
      shape: [values.length],
      type: TensorType.INT8,
      activation: false,
    });
    const rec = this.#tensors[t]!;
    rec.data = new Uint8Array(q.buffer);
    rec.constQuant = { scale: [quant.scale], zeroPoint: [quant.zeroPoint], quantizedDimension: 0 };
    rec.constValues = deq;
    this.#parameterBytes += q.byteLength;
    return t;
  }

  #biasTensor(name: string, values: Float64Array, input: number, weightScales: Float32Array): number {
    const t = this.#addTensor({
      name: this.#uniqueTensorName(name),
      shape: [values.length],
      type: TensorType.INT32,
      activation: false,
    });
    this.#tensors[t]!.bias = { values, input, weightScales };
    this.#parameterBytes += values.length * 4;
    return t;
  }

  #op(
    name: keyof typeof INT8_OP_VERSIONS & keyof typeof BuiltinOperator,
    inputs: number[],
    outputs: number[],
    optionsName?: BuiltinOptionsName,
    fields?: Record<string, number | boolean | number[]>,
  ): void {
    const op: OpRec = {
      code: BuiltinOperator[name],
      version: name === 'MUL' ? 'mul' : INT8_OP_VERSIONS[name]!,
      inputs,
      outputs,
    };
    if (optionsName !== undefined) {
      const type = BuiltinOptionsType[optionsName];
      // Every field of the table, schema defaults first: the model equals what the reader reads back.
      const all: Record<string, number | boolean | number[]> = {};
      for (const f of getOptionsSpec(type)?.fields ?? [])
        if (f.default !== undefined) all[f.name] = f.default;
      op.options = { type, name: optionsName, fields: { ...all, ...fields } };
    }
    this.#ops.push(op);
  }

  /** Inserts an int8 → int8 QUANTIZE (requantization) so a tensor can join a differently fixed group. */
  #requantize(t: number, name: string): number {
    const rec = this.#tensors[t]!;
    const out = this.#activation(this.#uniqueTensorName(name), rec.shape, rec.stats!, rec.range!);
    this.#op('QUANTIZE', [t], [out], 'QuantizeOptions', {});
    return out;
  }

  #binary(
    kind: 'ADD' | 'MUL',
    base: string,
    a: TensorHandle,
    b: TensorHandle,
    spec: BinarySpec,
  ): TensorHandle {
    const layer = this.#layerName(requireSpec(spec, base).name, base);
    const forWhat = `${kind === 'ADD' ? 'add' : 'mul'} "${layer}"`;
    const ai = this.#int8(a, `${forWhat} input 0`);
    const bi = this.#int8(b, `${forWhat} input 1`);
    const act = oneOf(spec.activation, ['none', 'relu', 'relu6'] as const, 'none', `${forWhat} activation`);
    const sa = this.#tensors[ai]!.shape;
    const sb = this.#tensors[bi]!.shape;
    const shape = this.#broadcast(sa, sb, forWhat);
    const d = shape[shape.length - 1]!;
    const xa = expandStats(this.#tensors[ai]!.stats!, d);
    const xb = expandStats(this.#tensors[bi]!.stats!, d);
    const mean = new Float64Array(d);
    const variance = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      const ma = xa.mean[j]!;
      const mb = xb.mean[j]!;
      const va = xa.variance[j]!;
      const vb = xb.variance[j]!;
      if (kind === 'ADD') {
        mean[j] = ma + mb;
        variance[j] = va + vb;
      } else {
        mean[j] = ma * mb;
        variance[j] = Math.max(0, (va + ma * ma) * (vb + mb * mb) - ma * ma * mb * mb);
      }
    }
    const out = this.#activationFrom(layer, shape, { mean, variance }, act);
    this.#op(kind, [ai, bi], [out], kind === 'ADD' ? 'AddOptions' : 'MulOptions', {
      fusedActivationFunction: ACTIVATION_CODE[act],
    });
    return this.#tensors[out]!.handle;
  }

  #broadcast(a: readonly number[], b: readonly number[], forWhat: string): number[] {
    if (a.length === b.length && a.every((d, i) => d === b[i])) return [...a];
    const rank = Math.max(a.length, b.length);
    if (rank > 4)
      fail(
        'equal shapes or broadcastable shapes of rank ≤ 4',
        forWhat,
        `${showShape(a)} and ${showShape(b)}`,
      );
    const out: number[] = [];
    for (let i = 0; i < rank; i++) {
      const da = a[a.length - rank + i] ?? 1;
      const db = b[b.length - rank + i] ?? 1;
      if (da !== db && da !== 1 && db !== 1) {
        fail('broadcast-compatible shapes', forWhat, `${showShape(a)} and ${showShape(b)}`);
      }
      out.push(Math.max(da, db));
    }
    return out;
  }

  #pool(
    kind: 'MAX_POOL_2D' | 'AVERAGE_POOL_2D',
    base: string,
    x: TensorHandle,
    spec: Pool2DSpec,
  ): TensorHandle {
    const label = kind === 'MAX_POOL_2D' ? 'maxPool2d' : 'avgPool2d';
    const { layer, forWhat, xi, n, h, w, c } = this.#spatialInput(x, spec, base, label);
    const [fh, fw] = pair(spec.size, 1, `${forWhat} size`);
    const [sh, sw] = spec.stride === undefined ? [fh, fw] : pair(spec.stride, 1, `${forWhat} stride`);
    const padding = oneOf(spec.padding, ['same', 'valid'] as const, 'valid', `${forWhat} padding`);
    const oh = outSize(h, fh, sh, 1, padding, `${forWhat} input height`);
    const ow = outSize(w, fw, sw, 1, padding, `${forWhat} input width`);
    const s = this.#tensors[xi]!.stats!;
    const area = fh * fw;
    let stats: ChannelStats;
    if (kind === 'MAX_POOL_2D') {
      // The max of `area` correlated samples: shifted up by a fraction of σ, spread narrowed.
      const shift = 0.6 * Math.sqrt(2 * Math.log(Math.max(area, 1)));
      stats = {
        mean: s.mean.map((m, j) => m + shift * Math.sqrt(s.variance[j]!)),
        variance: s.variance.map((v) => v * 0.6),
      };
    } else {
      const reduction = 1 / area + 3 * SPATIAL_CORRELATION * (1 - 1 / area);
      stats = { mean: s.mean, variance: s.variance.map((v) => v * reduction) };
    }
    const out = this.#activation(
      this.#uniqueTensorName(layer),
      [n, oh, ow, c],
      stats,
      this.#tensors[xi]!.range!,
    );
    this.#tie(out, xi);
    this.#op(kind, [xi], [out], 'Pool2DOptions', {
      padding: PADDING_CODE[padding],
      strideW: sw,
      strideH: sh,
      filterWidth: fw,
      filterHeight: fh,
      fusedActivationFunction: 0,
    });
    return this.#tensors[out]!.handle;
  }

  #concatStats(ids: number[], axis: number, rank: number, axisTotal: number): ChannelStats {
    if (axis === rank - 1) {
      const mean = new Float64Array(axisTotal);
      const variance = new Float64Array(axisTotal);
      let off = 0;
      for (const id of ids) {
        const rec = this.#tensors[id]!;
        const d = rec.shape[axis]!;
        const s = expandStats(rec.stats!, d);
        mean.set(s.mean, off);
        variance.set(s.variance, off);
        off += d;
      }
      return { mean, variance };
    }
    // Another axis: each channel mixes the inputs in proportion to their extent along the axis.
    const d = this.#tensors[ids[0]!]!.shape[rank - 1]!;
    const mean = new Float64Array(d);
    const e2 = new Float64Array(d);
    for (const id of ids) {
      const rec = this.#tensors[id]!;
      const wgt = rec.shape[axis]! / axisTotal;
      const s = expandStats(rec.stats!, d);
      for (let j = 0; j < d; j++) {
        const m = s.mean[j]!;
        mean[j]! += wgt * m;
        e2[j]! += wgt * (s.variance[j]! + m * m);
      }
    }
    return { mean, variance: e2.map((v, j) => Math.max(0, v - mean[j]! * mean[j]!)) };
  }

  /**
   * Shared by conv and fully connected: fills `q` ([rows, fanIn]) row by row from the PRNG and, while the row
   * is in cache, accumulates Σq·μ, Σq²·σ², Σq²·E[x²] and Σq², the input channel of element i being
   * `channelOf(i)`. Wide rows (fan-in ≥ {@link EXACT_FAN_IN}) replace the two variance sums by Σq² times the
   * mean input moment: with that many iid weights the relative error is below a few percent, and the loop
   * does half the work (25 M weights in ≈ 0.1 s).
   */
  #denseStats(
    q: Int8Array,
    rows: number,
    fanIn: number,
    channelOf: (i: number) => number,
    inStats: ChannelStats,
    perChannel: boolean,
  ): { scales: Float32Array; bias: Float64Array; pre: ChannelStats } {
    // Per-element input moments laid out along the fan-in, so the hot loop has no modulo.
    const mu = new Float64Array(fanIn);
    const va = new Float64Array(fanIn);
    const e2 = new Float64Array(fanIn);
    let meanVa = 0;
    let meanE2 = 0;
    for (let i = 0; i < fanIn; i++) {
      const ch = channelOf(i);
      mu[i] = inStats.mean[ch]!;
      va[i] = inStats.variance[ch]!;
      e2[i] = va[i]! + mu[i]! * mu[i]!;
      meanVa += va[i]!;
      meanE2 += e2[i]!;
    }
    meanVa /= fanIn;
    meanE2 /= fanIn;
    const sumQMu = new Float64Array(rows);
    const sumQ2Var = new Float64Array(rows);
    const sumQ2E2 = new Float64Array(rows);
    const sumQ2 = new Float64Array(rows);
    const rng = this.#rng;
    const exact = fanIn < EXACT_FAN_IN;
    let idx = 0;
    for (let r = 0; r < rows; r++) {
      rng.fillTriangularInt8(q, idx, fanIn);
      let a = 0;
      let z = 0;
      if (exact) {
        let bv = 0;
        let c = 0;
        for (let i = 0; i < fanIn; i++) {
          const v = q[idx++]!;
          const v2 = v * v;
          a += v * mu[i]!;
          bv += v2 * va[i]!;
          c += v2 * e2[i]!;
          z += v2;
        }
        sumQ2Var[r] = bv;
        sumQ2E2[r] = c;
      } else {
        for (let i = 0; i < fanIn; i++) {
          const v = q[idx++]!;
          a += v * mu[i]!;
          z += v * v;
        }
        sumQ2Var[r] = z * meanVa;
        sumQ2E2[r] = z * meanE2;
      }
      sumQMu[r] = a;
      sumQ2[r] = z;
    }
    return this.#finishChannels(sumQMu, sumQ2Var, sumQ2E2, sumQ2, perChannel);
  }

  /**
   * Chooses weight scales so each output channel's pre-activation RMS is gain · (random per-channel factor),
   * the way batch-norm folding leaves a trained network, draws biases, and returns pre-activation statistics.
   */
  #finishChannels(
    sumQMu: Float64Array,
    sumQ2Var: Float64Array,
    sumQ2E2: Float64Array,
    sumQ2: Float64Array,
    perChannel: boolean,
  ): { scales: Float32Array; bias: Float64Array; pre: ChannelStats } {
    const rows = sumQMu.length;
    const rng = this.#rng;
    const gain = this.#gain;
    // Guard: a (near) dead input gives no information; fall back to unit input power.
    const rawPower = (r: number): number => {
      const p = sumQ2E2[r]!;
      return p > 1e-12 * sumQ2[r]! && p > 0 ? p : Math.max(sumQ2[r]!, 1);
    };
    // A channel whose input is almost dead (e.g. a depthwise channel after a ReLU that is nearly always off)
    // would get weights hundreds of times larger than its neighbours; trained networks do not, and runtimes
    // refuse requantization scales ≥ 1 (XNNPACK fails to prepare). Floor each row's input power at 1e-3 of
    // the layer's mean power: the dead channel stays small instead of being amplified.
    let meanPower = 0;
    for (let r = 0; r < rows; r++) meanPower += rawPower(r) / (sumQ2[r]! > 0 ? sumQ2[r]! : 1);
    meanPower /= rows;
    const power = (r: number): number => Math.max(rawPower(r), 1e-3 * meanPower * sumQ2[r]!);
    const scales = new Float32Array(perChannel ? rows : 1);
    if (perChannel) {
      for (let r = 0; r < rows; r++)
        scales[r] = Math.fround((gain * Math.exp(rng.uniform(-0.3, 0.3))) / Math.sqrt(power(r)));
    } else {
      let total = 0;
      for (let r = 0; r < rows; r++) total += power(r);
      scales[0] = Math.fround(gain / Math.sqrt(total / rows));
    }
    const bias = new Float64Array(rows);
    const mean = new Float64Array(rows);
    const variance = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      const s = scales[perChannel ? r : 0]!;
      bias[r] = gain * rng.uniform(-0.25, 0.25);
      mean[r] = s * sumQMu[r]! + bias[r]!;
      variance[r] = s * s * sumQ2Var[r]!;
    }
    return { scales, bias, pre: { mean, variance } };
  }

  // ----- internals: quantization groups

  #find(t: number): number {
    let r = t;
    while (this.#parent[r]! !== r) r = this.#parent[r]!;
    // Path compression.
    let c = t;
    while (this.#parent[c]! !== r) {
      const next = this.#parent[c]!;
      this.#parent[c] = r;
      c = next;
    }
    return r;
  }

  /** The fixed quantization of a tensor's group, if any member has one. */
  #groupFixed(t: number): Int8Quant | undefined {
    return this.#rootFixed.get(this.#find(t));
  }

  /** Ties two tensors to one quantization (callers ensure fixed quantizations do not conflict). */
  #tie(a: number, b: number): void {
    const ra = this.#find(a);
    const rb = this.#find(b);
    if (ra === rb) return;
    const root = Math.min(ra, rb);
    const child = Math.max(ra, rb);
    this.#parent[child] = root;
    const f = this.#rootFixed.get(root) ?? this.#rootFixed.get(child);
    this.#rootFixed.delete(child);
    if (f !== undefined) this.#rootFixed.set(root, f);
  }

  /** One quantization per group: the fixed one, else one covering the union of the members' ranges. */
  #resolveGroups(): Map<number, Int8Quant> {
    const ranges = new Map<number, Range>();
    this.#tensors.forEach((rec, i) => {
      if (!rec.activation) return;
      const root = this.#find(i);
      const r = ranges.get(root);
      ranges.set(root, r === undefined ? rec.range! : unionRange(r, rec.range!));
    });
    const out = new Map<number, Int8Quant>();
    for (const [root, range] of ranges) {
      const f = this.#rootFixed.get(root);
      out.set(
        root,
        f !== undefined ? { scale: Math.fround(f.scale), zeroPoint: f.zeroPoint } : quantForRange(range),
      );
    }
    return out;
  }

  // ----- internals: validation and naming

  #int8(t: TensorHandle, forWhat: string): number {
    const index = (t as { index?: unknown } | null | undefined)?.index;
    const rec = typeof index === 'number' ? this.#tensors[index] : undefined;
    if (rec === undefined || rec.handle !== t) {
      fail('a tensor handle returned by this GraphBuilder', forWhat, describeValue(t));
    }
    if (!rec.activation) {
      fail('an int8 activation tensor', forWhat, `tensor "${rec.handle.name}" of type ${rec.type}`);
    }
    return index as number;
  }

  #rank4(t: number, forWhat: string): [number, number, number, number] {
    const s = this.#tensors[t]!.shape;
    if (s.length !== 4) fail('a rank-4 NHWC tensor', `${forWhat} input`, showShape(s));
    return [s[0]!, s[1]!, s[2]!, s[3]!];
  }

  #checkShape(shape: readonly number[], forWhat: string): void {
    if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
      fail('a non-empty array of positive integers', `${forWhat} shape`, describeValue(shape));
    }
  }

  /**
   * The common start of a spatial layer (convolutions, pooling): its name (from `spec`, else `base` numbered), the
   * description `label "name"` its errors use, and its int8 NHWC input with the input's shape.
   */
  #spatialInput(
    x: TensorHandle,
    spec: { name?: string },
    base: string,
    label: string,
  ): { layer: string; forWhat: string; xi: number; n: number; h: number; w: number; c: number } {
    const layer = this.#layerName(requireSpec(spec, base).name, base);
    const forWhat = `${label} "${layer}"`;
    const xi = this.#int8(x, `${forWhat} input`);
    const [n, h, w, c] = this.#rank4(xi, forWhat);
    return { layer, forWhat, xi, n, h, w, c };
  }

  #layerName(given: string | undefined, base: string): string {
    if (given !== undefined) {
      if (typeof given !== 'string' || given.length === 0)
        fail('a non-empty string', 'layer name', describeValue(given));
      if (this.#layerNames.has(given) || this.#tensorNames.has(given)) {
        fail('a layer name not used before', 'layer name', JSON.stringify(given));
      }
      this.#layerNames.add(given);
      return given;
    }
    let n = this.#kindCounts.get(base) ?? 0;
    let name: string;
    do {
      name = n === 0 ? base : `${base}_${n}`;
      n++;
    } while (this.#layerNames.has(name) || this.#tensorNames.has(name));
    this.#kindCounts.set(base, n);
    this.#layerNames.add(name);
    return name;
  }

  #uniqueTensorName(name: string): string {
    if (!this.#tensorNames.has(name)) return name;
    fail('a tensor name not used before', 'tensor name', JSON.stringify(name));
  }

  #rename(t: number, name: string): void {
    if (typeof name !== 'string' || name.length === 0)
      fail('a non-empty string', 'output name', describeValue(name));
    const uniqueName = this.#uniqueTensorName(name);
    const rec = this.#tensors[t]!;
    this.#tensorNames.delete(rec.handle.name);
    this.#tensorNames.add(uniqueName);
    rec.handle = Object.freeze({ index: t, name: uniqueName, shape: rec.handle.shape });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Ready-made recipes

/** Options of {@link tinyModel}. */
export interface TinyModelOptions {
  /** 'float32' (default): a float ADD x + x. 'int8': an int8 ADD x + x (scale 1/128 in, 1/64 out). */
  type?: 'float32' | 'int8';
  /** Input (and output) shape. Default [1] — the smallest tensor possible. */
  shape?: readonly number[];
}

/**
 * The smallest useful model: one ADD of the single input with itself. Used by the native benchmark to
 * measure the N-API round-trip cost of setInput/invoke/getOutput without any real compute.
 */
export function tinyModel(options: TinyModelOptions = {}): TfliteModel {
  const type = oneOf(options.type, ['float32', 'int8'] as const, 'float32', 'tinyModel type');
  const shape = options.shape ?? [1];
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
    fail('a non-empty array of positive integers', 'tinyModel shape', describeValue(shape));
  }
  const int8 = type === 'int8';
  const q = (scale: number): Quantization | undefined =>
    int8 ? { scale: [scale], zeroPoint: [0], quantizedDimension: 0 } : undefined;
  const tensor = (name: string, scale: number): Tensor => {
    const t: Tensor = {
      shape: [...shape],
      type: int8 ? TensorType.INT8 : TensorType.FLOAT32,
      buffer: 0,
      name,
      isVariable: false,
      hasRank: true,
    };
    const quantization = q(scale);
    if (quantization !== undefined) t.quantization = quantization;
    return t;
  };
  return {
    version: 3,
    operatorCodes: [{ builtinCode: BuiltinOperator.ADD, version: int8 ? INT8_OP_VERSIONS.ADD! : 1 }],
    subgraphs: [
      {
        tensors: [tensor('x', 1 / 128), tensor('y', 1 / 64)],
        inputs: [0],
        outputs: [1],
        operators: [
          {
            opcodeIndex: 0,
            inputs: [0, 0],
            outputs: [1],
            builtinOptions: {
              type: BuiltinOptionsType.AddOptions,
              name: 'AddOptions',
              fields: { fusedActivationFunction: 0, potScaleInt16: true },
            },
            customOptionsFormat: 0,
          },
        ],
        name: 'tiny',
      },
    ],
    description: `tiny ${type} ADD (SwapLess)`,
    buffers: [{}],
  };
}

/**
 * An op-coverage network for split and runtime tests, int8 end to end (input [1, 16, 16, 3] → [1, 10]):
 * CONV_2D → DEPTHWISE_CONV_2D → CONV_2D → ADD (residual) → two branches MAX_POOL_2D | AVERAGE_POOL_2D →
 * CONCATENATION → RESHAPE → FULLY_CONNECTED → SOFTMAX. Ten ops, ~3 k parameters: splitting it at every cut
 * and running both parts takes milliseconds.
 */
export function buildTestNet(seed = 0): TfliteModel {
  const b = new GraphBuilder({ seed, name: 'testnet' });
  const x = b.input('input', [1, 16, 16, 3]);
  const c1 = b.conv2d(x, { filters: 8, kernel: 3, stride: 2, activation: 'relu6', name: 'conv1' });
  const dw = b.depthwiseConv2d(c1, { kernel: 3, activation: 'relu6', name: 'dw1' });
  const pw = b.conv2d(dw, { filters: 8, kernel: 1, name: 'pw1' });
  const res = b.add(c1, pw, { name: 'residual' });
  const mp = b.maxPool2d(res, { size: 2, name: 'maxpool' });
  const ap = b.avgPool2d(res, { size: 2, name: 'avgpool' });
  const cat = b.concatenation([mp, ap], { axis: 3, name: 'concat' });
  const flat = b.reshape(cat, [1, -1], { name: 'flatten' });
  const fc = b.fullyConnected(flat, { units: 10, name: 'logits' });
  b.output(b.softmax(fc, { name: 'probabilities' }));
  return b.build();
}
