/**
 * uint8 → int8: rewrites the uint8-quantized compute of a model (the legacy TF 1.x quantization Coral's classic
 * models use) into the signed int8 form XNNPACK's QS8 path accepts, keeping the model's interface exactly.
 *
 * Why: the XNNPACK inside the TFLite 2.9 C library SwapLess loads refuses every unsigned (QU8) node it is asked to
 * define, while its signed path works (docs/native.md has the evidence). The rewrite, per op:
 *
 * - activations become int8 with the same scale and zero point − 128: `q − 128` is the same real number, so this
 *   is lossless, and TFLite's QUANTIZE converts between the two exactly (equal scales);
 * - CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED weights must be symmetric (zero point 0) for XNNPACK's signed
 *   convolutions: a uint8 weight w with zero point z becomes the int8 `w − z` when every |w − z| of the channel is
 *   ≤ 127 (lossless), otherwise the channel is requantized (new scale s·max|w−z|/127, rounding the weights; the
 *   int32 bias is rescaled to input scale × new weight scale). Conv channels are dimension 0, depthwise channels
 *   dimension 3, FULLY_CONNECTED is per-tensor (TFLite 2.9's int8 FULLY_CONNECTED takes per-tensor weights);
 * - ops whose int8 form is not the same computation, or that XNNPACK does not run anyway, stay uint8 behind
 *   QUANTIZE conversions (AVERAGE_POOL_2D, whose int8 kernel rounds ties differently; SOFTMAX; custom ops; …);
 * - model inputs and outputs keep their uint8 tensors, names and indices (a QUANTIZE at each edge).
 *
 * Every decision and every conversion depends only on the op's own tensors, never on its neighbours. That makes
 * the rewrite commute with splitting: the rewrite of each part of a split chains bit-exactly with the rewrite of
 * the whole model, and the rewritten model splits like any other (`int8CutMap` maps cut points, since the
 * inserted QUANTIZE ops are compute ops of their own).
 */
import { expected, InvalidArgumentError } from '@swapless/core';
import { analyzeModel, elementCount, hasBufferData } from './analysis.js';
import type { ModelBuffer, Operator, Quantization, Tensor, TfliteModel } from './model.js';
import { TensorType } from './model.js';
import { builtinOperatorName, BuiltinOperator as OP } from './ops.js';
import { verifyModel } from './verify.js';

/** How an op input is treated: a shifted activation, conv/FC weights, their int32 bias, or left alone. */
type Role = 'act' | 'filter' | 'bias' | 'other';

interface OpRule {
  /** Roles of the input slots; `'act*'`: every input is an activation (CONCATENATION). */
  readonly inputs: readonly Role[] | 'act*';
  /** Lowest op version of the int8 form (TFLite's op_version table); the op keeps a higher one. */
  readonly version: number;
  /** Weight channel dimension (conv 0, depthwise 3), or `'tensor'` for per-tensor weights (FULLY_CONNECTED). */
  readonly axis?: number | 'tensor';
  /**
   * True for the ops XNNPACK's unsigned path claims in this library and then fails to define (checked op by op
   * on single-op models): a model holding one of them as uint8 loses XNNPACK altogether. The others are data
   * movement, rewritten only so that no conversion is needed between two int8 ops.
   */
  readonly xnnpack: boolean;
  /** Every activation input must be quantized exactly like the output (the int8 kernel does not requantize). */
  readonly sameQuantization?: boolean;
}

const CONV: readonly Role[] = ['act', 'filter', 'bias'];
const RULES: ReadonlyMap<number, OpRule> = new Map<number, OpRule>([
  [OP.CONV_2D, { inputs: CONV, version: 3, axis: 0, xnnpack: true }],
  [OP.DEPTHWISE_CONV_2D, { inputs: CONV, version: 3, axis: 3, xnnpack: true }],
  [OP.FULLY_CONNECTED, { inputs: CONV, version: 4, axis: 'tensor', xnnpack: true }],
  [OP.ADD, { inputs: ['act', 'act'], version: 2, xnnpack: true }],
  [OP.SUB, { inputs: ['act', 'act'], version: 2, xnnpack: true }],
  [OP.MUL, { inputs: ['act', 'act'], version: 2, xnnpack: true }],
  [OP.MAX_POOL_2D, { inputs: ['act'], version: 2, xnnpack: true }],
  [OP.PAD, { inputs: ['act', 'other'], version: 2, xnnpack: true }],
  [OP.MEAN, { inputs: ['act', 'other'], version: 2, xnnpack: true }],
  [OP.LOGISTIC, { inputs: ['act'], version: 2, xnnpack: true }],
  [OP.RESIZE_BILINEAR, { inputs: ['act', 'other'], version: 2, xnnpack: true }],
  [OP.RESHAPE, { inputs: ['act', 'other'], version: 1, xnnpack: false }],
  [OP.SQUEEZE, { inputs: ['act'], version: 1, xnnpack: false }],
  [OP.CONCATENATION, { inputs: 'act*', version: 2, xnnpack: false, sameQuantization: true }],
]);

/** Why the uint8 ops without a rule stay uint8, where there is more to say than that XNNPACK leaves them alone. */
const KEPT: Readonly<Record<number, string>> = {
  [OP.AVERAGE_POOL_2D]:
    "TFLite's int8 kernel rounds ties away from zero where the uint8 one rounds them up; XNNPACK leaves it to TFLite",
  [OP.SOFTMAX]: 'XNNPACK has no quantized SOFTMAX here; it stays on TFLite as it is',
};

/** Version of this rewrite's arithmetic: recorded wherever a measurement of a rewritten model is cached. */
export const INT8_REWRITE_VERSION = 1;

/** A uint8 op the rewrite leaves uint8, and why. */
export interface Int8KeptOp {
  /** Index of the op in the original subgraph 0. */
  readonly op: number;
  /** Builtin operator name, or the custom code. */
  readonly type: string;
  readonly reason: string;
}

/** What {@link planInt8Rewrite} decided, per op of subgraph 0. */
export interface Int8RewritePlan {
  /** Indices of the uint8 ops that become int8, ascending. */
  readonly rewrite: readonly number[];
  /**
   * How many of them XNNPACK's unsigned path would claim and fail on (convolutions, FULLY_CONNECTED, ADD, SUB,
   * MUL, pools, PAD, MEAN, LOGISTIC, RESIZE_BILINEAR): when 0, XNNPACK can take the model as it is.
   */
  readonly xnnpackRefused: number;
  /** uint8 ops left uint8 (behind QUANTIZE conversions), with the reason. */
  readonly kept: readonly Int8KeptOp[];
}

/** What {@link rewriteToInt8} did and what it cost. */
export interface Int8RewriteReport {
  /** Ops now int8, by type (e.g. `{ CONV_2D: 36, ADD: 10 }`). */
  readonly rewritten: Readonly<Record<string, number>>;
  /** Total of {@link rewritten}. */
  readonly opsRewritten: number;
  /** uint8 ops left uint8, with the reason. */
  readonly kept: readonly Int8KeptOp[];
  /** QUANTIZE ops inserted (uint8 ↔ int8, exact). */
  readonly conversions: number;
  /** Weight tensors converted to symmetric int8. */
  readonly weightTensors: number;
  /** Of those, the tensors with at least one requantized (not lossless) channel. */
  readonly requantizedWeightTensors: number;
  /** Weight channels converted, and how many of them were requantized. */
  readonly channels: number;
  readonly requantizedChannels: number;
  /**
   * Largest change of a weight's real value, in units of the original weight scale (LSBs): 0 when every channel
   * was lossless, at most about 1 (a channel spanning the whole uint8 range gets twice the step).
   */
  readonly maxWeightErrorLsb: number;
  /** The same largest change in real units. */
  readonly maxWeightError: number;
  /** Largest change of a bias's real value from rescaling, in units of the original bias scale. */
  readonly maxBiasErrorLsb: number;
  /** Per op of the rewritten subgraph 0: the index of the original op it belongs to (conversions included). */
  readonly origin: readonly number[];
}

/** The rewritten model (a new object; the input is not modified) and the report. */
export interface Int8RewriteResult {
  readonly model: TfliteModel;
  readonly report: Int8RewriteReport;
}

function isPerTensor(q: Quantization | undefined): q is Quantization {
  if (q === undefined || q.scale === undefined || q.scale.length !== 1) return false;
  const scale = q.scale[0]!;
  return Number.isFinite(scale) && scale > 0 && (q.zeroPoint?.length ?? 0) <= 1;
}

function zeroPointOf(q: Quantization): number {
  return q.zeroPoint?.[0] ?? 0;
}

function sameQuantization(a: Tensor, b: Tensor): boolean {
  return (
    a.quantization!.scale![0] === b.quantization!.scale![0] &&
    zeroPointOf(a.quantization!) === zeroPointOf(b.quantization!)
  );
}

function roleOf(rule: OpRule, slot: number): Role {
  return rule.inputs === 'act*' ? 'act' : (rule.inputs[slot] ?? 'other');
}

function opType(model: TfliteModel, op: Operator): string {
  const code = model.operatorCodes[op.opcodeIndex];
  if (code === undefined) return 'unknown';
  return code.builtinCode === OP.CUSTOM
    ? (code.customCode ?? 'CUSTOM')
    : builtinOperatorName(code.builtinCode);
}

/** Why a uint8 op cannot take its int8 form, or undefined when it can. Looks at the op's own tensors only. */
function refusal(
  model: TfliteModel,
  op: Operator,
  builtinCode: number,
  rule: OpRule | undefined,
): string | undefined {
  const graph = model.subgraphs[0]!;
  const tensors = graph.tensors;
  if (rule === undefined)
    return KEPT[builtinCode] ?? 'XNNPACK leaves it to TFLite as it is, so it stays uint8';
  if (op.outputs.length !== 1 || op.outputs[0]! < 0) return 'expected exactly one output';
  const out = tensors[op.outputs[0]!]!;
  if (out.type !== TensorType.UINT8 || !isPerTensor(out.quantization))
    return 'the output is not per-tensor uint8';
  if (out.isVariable || hasBufferData(model, out)) return 'the output is a variable or constant tensor';
  const fields = op.builtinOptions?.fields ?? {};
  if (typeof fields.weightsFormat === 'number' && fields.weightsFormat !== 0)
    return 'shuffled weights format';
  let channels = 1;
  for (const [slot, t] of op.inputs.entries()) {
    const role = roleOf(rule, slot);
    if (t < 0) {
      if (role === 'act' || role === 'filter') return `input ${slot} is absent`;
      continue;
    }
    const tensor = tensors[t]!;
    if (role === 'other') {
      if (tensor.type === TensorType.UINT8) return `input ${slot} is uint8 but not an activation`;
      continue;
    }
    if (role === 'bias') {
      if (tensor.type !== TensorType.INT32 || !hasBufferData(model, tensor))
        return 'the bias is not constant int32';
      if (elementCount(tensor.shape) !== channels) return 'the bias does not have one value per channel';
      continue;
    }
    if (tensor.type !== TensorType.UINT8 || !isPerTensor(tensor.quantization) || tensor.isVariable) {
      return `input ${slot} is not per-tensor uint8`;
    }
    if (role === 'filter') {
      if (!hasBufferData(model, tensor)) return 'the weights are not constant';
      const axis = rule.axis ?? 'tensor';
      if (axis !== 'tensor' && tensor.shape.length !== 4) return 'the weights are not 4-D';
      if (axis === 'tensor' && tensor.shape.length !== 2) return 'the weights are not 2-D';
      channels = axis === 'tensor' ? tensor.shape[0]! : tensor.shape[axis]!;
      continue;
    }
    if (rule.sameQuantization === true && !sameQuantization(tensor, out)) {
      return 'an input is quantized differently from the output';
    }
  }
  return undefined;
}

function touchesUint8(graph: TfliteModel['subgraphs'][number], op: Operator): boolean {
  for (const t of op.inputs) if (t >= 0 && graph.tensors[t]?.type === TensorType.UINT8) return true;
  for (const t of op.outputs) if (t >= 0 && graph.tensors[t]?.type === TensorType.UINT8) return true;
  return false;
}

function checkModel(model: unknown, forWhat: string): asserts model is TfliteModel {
  if (typeof model !== 'object' || model === null || !Array.isArray((model as TfliteModel).subgraphs)) {
    throw new InvalidArgumentError(expected('a TfliteModel', forWhat, model));
  }
}

/**
 * Decides, op by op, what {@link rewriteToInt8} would do with subgraph 0, without building anything: cheap
 * enough to ask before every interpreter creation whether a model has uint8 compute for XNNPACK at all.
 */
export function planInt8Rewrite(model: TfliteModel): Int8RewritePlan {
  checkModel(model, 'planInt8Rewrite(model)');
  const graph = model.subgraphs[0];
  const rewrite: number[] = [];
  const kept: Int8KeptOp[] = [];
  let xnnpackRefused = 0;
  if (graph === undefined) return { rewrite, xnnpackRefused, kept };
  graph.operators.forEach((op, i) => {
    if (!touchesUint8(graph, op)) return;
    const code = model.operatorCodes[op.opcodeIndex];
    const rule =
      code === undefined || code.builtinCode === OP.CUSTOM ? undefined : RULES.get(code.builtinCode);
    const reason = refusal(model, op, code?.builtinCode ?? -1, rule);
    if (reason !== undefined) {
      kept.push({ op: i, type: opType(model, op), reason });
      return;
    }
    rewrite.push(i);
    if (rule!.xnnpack) xnnpackRefused++;
  });
  return { rewrite, xnnpackRefused, kept };
}

/** Rounds half away from zero: symmetric, so a weight and its negation requantize to negated values. */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/**
 * Rescales integers by a ratio (new value = round(value × ratio), half away from zero, clamped to [lo, hi]) and
 * tracks the largest change in units of the original value. A ratio of 1 is the lossless shift: value as it is.
 */
class Rescaler {
  maxError = 0;

  constructor(
    private readonly lo: number,
    private readonly hi: number,
  ) {}

  apply(value: number, ratio: number): number {
    if (ratio === 1) return value;
    const v = clamp(roundHalfAway(value * ratio), this.lo, this.hi);
    const error = Math.abs(v / ratio - value);
    if (error > this.maxError) this.maxError = error;
    return v;
  }
}

/** Symmetric int8 weights of one filter, with the per-channel scales and what the conversion cost. */
interface ConvertedFilter {
  data: Uint8Array;
  scales: number[];
  /** Per channel: the original scale over the new one (1 for lossless channels). */
  ratios: number[];
  requantized: number;
  maxErrorLsb: number;
  maxError: number;
}

/**
 * The element indices of weight channel `c`, in order: `outer` runs of `inner` consecutive elements, a run every
 * `channels × inner` elements. Filled into a reused array so the conversion loops need no division per element
 * (converting a ResNet-50's 25 M weights stays cheap next to parsing the file).
 */
function channelIndices(
  shape: readonly number[],
  axis: number | 'tensor',
  c: number,
  into: Int32Array,
): void {
  const count = elementCount(shape);
  const channels = axis === 'tensor' ? 1 : shape[axis]!;
  const inner = axis === 'tensor' ? count : elementCount(shape.slice(axis + 1));
  const outer = count / (channels * inner);
  let n = 0;
  for (let o = 0; o < outer; o++) {
    const start = (o * channels + c) * inner;
    for (let i = start; i < start + inner; i++) into[n++] = i;
  }
}

function convertFilter(tensor: Tensor, data: Uint8Array, axis: number | 'tensor'): ConvertedFilter {
  const q = tensor.quantization!;
  const scale = q.scale![0]!;
  const zero = zeroPointOf(q);
  const channels = axis === 'tensor' ? 1 : tensor.shape[axis]!;
  const index = new Int32Array(data.length / channels);
  const scales: number[] = [];
  const ratios: number[] = [];
  const out = new Int8Array(data.length);
  const weights = new Rescaler(-127, 127);
  let requantized = 0;
  for (let c = 0; c < channels; c++) {
    channelIndices(tensor.shape, axis, c, index);
    let maxAbs = 0;
    for (let n = 0; n < index.length; n++) {
      const d = Math.abs(data[index[n]!]! - zero);
      if (d > maxAbs) maxAbs = d;
    }
    const lossless = maxAbs <= 127;
    const s = lossless ? scale : Math.fround((scale * maxAbs) / 127);
    const ratio = lossless ? 1 : scale / s;
    scales.push(s);
    ratios.push(ratio);
    if (!lossless) requantized++;
    for (let n = 0; n < index.length; n++) {
      const i = index[n]!;
      out[i] = weights.apply(data[i]! - zero, ratio);
    }
  }
  return {
    data: new Uint8Array(out.buffer),
    scales,
    ratios,
    requantized,
    maxErrorLsb: weights.maxError,
    maxError: weights.maxError * scale,
  };
}

/** The int32 bias rescaled for the new weight scales; `scales` are input scale × new weight scale. */
function convertBias(
  data: Uint8Array,
  channels: number,
  ratios: readonly number[],
): { data: Uint8Array; maxErrorLsb: number } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Int32Array(channels);
  const bias = new Rescaler(-0x8000_0000, 0x7fff_ffff);
  for (let c = 0; c < channels; c++) {
    out[c] = bias.apply(view.getInt32(c * 4, true), ratios.length === 1 ? ratios[0]! : ratios[c]!);
  }
  return { data: new Uint8Array(out.buffer), maxErrorLsb: bias.maxError };
}

/** The int8 twin of a uint8 activation's quantization: same scale, zero point − 128. */
function int8Quantization(q: Quantization): Quantization {
  return { ...q, zeroPoint: [zeroPointOf(q) - 128] };
}

class Rewriter {
  readonly #model: TfliteModel;
  readonly #tensors: Tensor[];
  readonly #buffers: ModelBuffer[];
  readonly #opcodes: TfliteModel['operatorCodes'];
  /** Original tensor → the tensor holding its int8 / uint8 version in the rewritten graph. */
  readonly #int8 = new Map<number, number>();
  readonly #uint8 = new Map<number, number>();
  /** Converted constants, by original tensor and conversion. */
  readonly #constants = new Map<string, number>();
  /** Converted weights, by original tensor and channel axis. */
  readonly #filters = new Map<string, ConvertedFilter>();
  /** Buffers no longer referenced by the tensor that held them; emptied at the end if nothing else reads them. */
  readonly #released = new Set<number>();
  readonly #consumers: number[][];
  readonly #rewrite: ReadonlySet<number>;
  readonly #before = new Map<number, Operator[]>();
  readonly #after = new Map<number, Operator[]>();
  readonly #plan: Int8RewritePlan;
  // What the conversions cost, for the report.
  conversions = 0;
  weightTensors = 0;
  requantizedWeightTensors = 0;
  channels = 0;
  requantizedChannels = 0;
  maxWeightErrorLsb = 0;
  maxWeightError = 0;
  maxBiasErrorLsb = 0;

  constructor(model: TfliteModel, plan: Int8RewritePlan) {
    this.#model = model;
    this.#plan = plan;
    const graph = model.subgraphs[0]!;
    this.#tensors = graph.tensors.map((t) => ({ ...t }));
    this.#buffers = [...model.buffers];
    this.#opcodes = model.operatorCodes.map((c) => ({ ...c }));
    this.#rewrite = new Set(plan.rewrite);
    this.#consumers = graph.tensors.map(() => []);
    graph.operators.forEach((op, i) => {
      for (const t of op.inputs) if (t >= 0) this.#consumers[t]!.push(i);
    });
  }

  #addTensor(tensor: Tensor): number {
    this.#tensors.push(tensor);
    return this.#tensors.length - 1;
  }

  #addBuffer(data: Uint8Array): number {
    this.#buffers.push({ data });
    return this.#buffers.length - 1;
  }

  #opcode(builtinCode: number, version: number): number {
    const found = this.#opcodes.findIndex(
      (c) => c.builtinCode === builtinCode && c.version === version && c.customCode === undefined,
    );
    if (found >= 0) return found;
    this.#opcodes.push({ builtinCode, version });
    return this.#opcodes.length - 1;
  }

  #quantize(from: number, to: number): Operator {
    this.conversions++;
    return {
      opcodeIndex: this.#opcode(OP.QUANTIZE, 1),
      inputs: [from],
      outputs: [to],
      customOptionsFormat: 0,
    };
  }

  #schedule(where: Map<number, Operator[]>, op: number, conversion: Operator): void {
    const list = where.get(op);
    if (list === undefined) where.set(op, [conversion]);
    else list.push(conversion);
  }

  /** A new tensor: a copy of original tensor `t` as int8 (or as it is), named after it. */
  #twin(t: number, int8: boolean): number {
    const original = this.#model.subgraphs[0]!.tensors[t]!;
    const copy: Tensor = { ...original, buffer: 0, name: `${original.name}/${int8 ? 'int8' : 'uint8'}` };
    if (int8) {
      copy.type = TensorType.INT8;
      copy.quantization = int8Quantization(original.quantization!);
    }
    return this.#addTensor(copy);
  }

  /** Only these ops read `t`, each in the given role: then a converted copy can replace `t` in place. */
  #onlyReadBy(t: number, accept: (op: number, slot: number) => boolean): boolean {
    const graph = this.#model.subgraphs[0]!;
    if (graph.inputs.includes(t) || graph.outputs.includes(t)) return false;
    return this.#consumers[t]!.every((o) =>
      graph.operators[o]!.inputs.every((x, slot) => x !== t || accept(o, slot)),
    );
  }

  /** A converted constant: replaces the tensor in place when nothing else reads it, else a new tensor. */
  #constant(t: number, key: string, inPlace: boolean, make: (tensor: Tensor) => Tensor): number {
    const cached = this.#constants.get(`${t}:${key}`);
    if (cached !== undefined) return cached;
    const original = this.#model.subgraphs[0]!.tensors[t]!;
    const converted = make(original);
    let index: number;
    if (inPlace) {
      this.#released.add(original.buffer);
      this.#tensors[t] = converted;
      index = t;
    } else {
      index = this.#addTensor({ ...converted, name: `${original.name}/int8` });
    }
    this.#constants.set(`${t}:${key}`, index);
    return index;
  }

  #data(t: number): Uint8Array {
    const tensor = this.#model.subgraphs[0]!.tensors[t]!;
    return this.#model.buffers[tensor.buffer]!.data!;
  }

  /** The int8 version of an activation input of a rewritten op (converted before op `consumer` if needed). */
  #activationInput(t: number, consumer: number): number {
    const known = this.#int8.get(t);
    if (known !== undefined) return known;
    const tensor = this.#model.subgraphs[0]!.tensors[t]!;
    if (hasBufferData(this.#model, tensor)) {
      const rewrite = this.#rewrite;
      const inPlace = this.#onlyReadBy(t, (o, slot) => rewrite.has(o) && this.#roleAt(o, slot) === 'act');
      return this.#constant(t, 'act', inPlace, (original) => {
        const data = this.#data(t).map((v) => v ^ 0x80);
        return {
          ...original,
          type: TensorType.INT8,
          quantization: int8Quantization(original.quantization!),
          buffer: this.#addBuffer(data),
        };
      });
    }
    const twin = this.#twin(t, true);
    this.#schedule(this.#before, consumer, this.#quantize(t, twin));
    this.#int8.set(t, twin);
    return twin;
  }

  #roleAt(op: number, slot: number): Role {
    return roleOf(this.#ruleOf(op), slot);
  }

  /** True when op `op` is the only reader of `t` and `t` is no model input or output: safe to convert in place. */
  #soleReader(t: number, op: number): boolean {
    const graph = this.#model.subgraphs[0]!;
    if (graph.inputs.includes(t) || graph.outputs.includes(t)) return false;
    return this.#consumers[t]!.every((o) => o === op);
  }

  /** The int8 weights of a rewritten conv/FC op (shared by every op reading the same tensor the same way). */
  #filter(t: number, axis: number | 'tensor'): { index: number; converted: ConvertedFilter } {
    const key = `filter:${axis}`;
    let converted = this.#filters.get(`${t}:${key}`);
    if (converted === undefined) {
      const tensor = this.#model.subgraphs[0]!.tensors[t]!;
      converted = convertFilter(tensor, this.#data(t), axis);
      this.#filters.set(`${t}:${key}`, converted);
      this.weightTensors++;
      this.channels += converted.scales.length;
      this.requantizedChannels += converted.requantized;
      if (converted.requantized > 0) this.requantizedWeightTensors++;
      this.maxWeightErrorLsb = Math.max(this.maxWeightErrorLsb, converted.maxErrorLsb);
      this.maxWeightError = Math.max(this.maxWeightError, converted.maxError);
    }
    const rewrite = this.#rewrite;
    const inPlace = this.#onlyReadBy(
      t,
      (o, slot) => rewrite.has(o) && this.#roleAt(o, slot) === 'filter' && this.#ruleOf(o).axis === axis,
    );
    const filter = converted;
    const index = this.#constant(t, key, inPlace, (original) => ({
      ...original,
      type: TensorType.INT8,
      quantization: {
        scale: filter.scales,
        zeroPoint: filter.scales.map(() => 0),
        quantizedDimension: axis === 'tensor' ? 0 : axis,
      },
      buffer: this.#addBuffer(filter.data),
    }));
    return { index, converted };
  }

  /** The bias of a rewritten conv/FC op: values rescaled for requantized channels, scale input × new weight scale. */
  #bias(t: number, op: number, inputScale: number, filter: ConvertedFilter): number {
    const scale = filter.scales.map((s) => Math.fround(inputScale * s));
    const quantization: Quantization = { scale, zeroPoint: scale.map(() => 0), quantizedDimension: 0 };
    return this.#constant(t, `bias:${scale.join(',')}`, this.#soleReader(t, op), (original) => {
      const length = elementCount(original.shape);
      const ratios =
        filter.ratios.length === 1 ? new Array<number>(length).fill(filter.ratios[0]!) : filter.ratios;
      const converted = convertBias(this.#data(t), length, ratios);
      this.maxBiasErrorLsb = Math.max(this.maxBiasErrorLsb, converted.maxErrorLsb);
      return { ...original, quantization, buffer: this.#addBuffer(converted.data) };
    });
  }

  #ruleOf(op: number): OpRule {
    const operator = this.#model.subgraphs[0]!.operators[op]!;
    return RULES.get(this.#model.operatorCodes[operator.opcodeIndex]!.builtinCode)!;
  }

  /** The rewritten form of op `i` (int8 tensors, weights converted). */
  #rewriteOp(i: number): Operator {
    const graph = this.#model.subgraphs[0]!;
    const op = graph.operators[i]!;
    const code = this.#model.operatorCodes[op.opcodeIndex]!;
    const rule = RULES.get(code.builtinCode)!;
    const axis = rule.axis ?? 'tensor';
    const inputScale = graph.tensors[op.inputs[0]!]!.quantization!.scale![0]!;
    const inputs = [...op.inputs];
    let filter: ConvertedFilter | undefined;
    op.inputs.forEach((t, slot) => {
      const role = roleOf(rule, slot);
      if (role === 'act') inputs[slot] = this.#activationInput(t, i);
      else if (role === 'filter') {
        const f = this.#filter(t, axis);
        inputs[slot] = f.index;
        filter = f.converted;
      }
    });
    // The bias is input 2 of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (optional for the latter only).
    const bias = op.inputs[2] ?? -1;
    if (filter !== undefined && bias >= 0) inputs[2] = this.#bias(bias, i, inputScale, filter);
    const out = op.outputs[0]!;
    return {
      ...op,
      opcodeIndex: this.#opcode(code.builtinCode, Math.max(code.version, rule.version)),
      inputs,
      outputs: [this.#int8.get(out)!],
    };
  }

  /** Gives every output of a rewritten op its int8 tensor: in place, or a twin when it is a model output. */
  #declareOutputs(): void {
    const graph = this.#model.subgraphs[0]!;
    for (const i of this.#rewrite) {
      const out = graph.operators[i]!.outputs[0]!;
      if (graph.outputs.includes(out)) {
        const twin = this.#twin(out, true);
        this.#int8.set(out, twin);
        this.#uint8.set(out, out);
        this.#schedule(this.#after, i, this.#quantize(twin, out));
      } else {
        const tensor = graph.tensors[out]!;
        this.#tensors[out] = {
          ...tensor,
          type: TensorType.INT8,
          quantization: int8Quantization(tensor.quantization!),
        };
        this.#int8.set(out, out);
      }
    }
  }

  /** Inputs of a uint8 op that read a tensor now held as int8 get its uint8 version (converted before `i`). */
  #keptInputs(i: number): Operator {
    const op = this.#model.subgraphs[0]!.operators[i]!;
    let inputs: number[] | undefined;
    op.inputs.forEach((t, slot) => {
      if (t < 0 || this.#int8.get(t) !== t) return;
      let u = this.#uint8.get(t);
      if (u === undefined) {
        u = this.#twin(t, false);
        this.#schedule(this.#before, i, this.#quantize(t, u));
        this.#uint8.set(t, u);
      }
      inputs ??= [...op.inputs];
      inputs[slot] = u;
    });
    return inputs === undefined ? op : { ...op, inputs };
  }

  run(): Int8RewriteResult {
    const model = this.#model;
    const graph = model.subgraphs[0]!;
    this.#declareOutputs();
    const rewritten: Record<string, number> = {};
    const operators: Operator[] = [];
    const origin: number[] = [];
    graph.operators.forEach((_, i) => {
      let op: Operator;
      if (this.#rewrite.has(i)) {
        op = this.#rewriteOp(i);
        const type = opType(model, graph.operators[i]!);
        rewritten[type] = (rewritten[type] ?? 0) + 1;
      } else {
        op = this.#keptInputs(i);
      }
      for (const c of this.#before.get(i) ?? []) {
        operators.push(c);
        origin.push(i);
      }
      operators.push(op);
      origin.push(i);
      for (const c of this.#after.get(i) ?? []) {
        operators.push(c);
        origin.push(i);
      }
    });
    this.#releaseBuffers();
    const result: TfliteModel = {
      ...model,
      operatorCodes: this.#opcodes,
      subgraphs: [{ ...graph, tensors: this.#tensors, operators }, ...model.subgraphs.slice(1)],
      buffers: this.#buffers,
    };
    return {
      model: result,
      report: {
        rewritten,
        opsRewritten: this.#rewrite.size,
        kept: this.#plan.kept,
        conversions: this.conversions,
        weightTensors: this.weightTensors,
        requantizedWeightTensors: this.requantizedWeightTensors,
        channels: this.channels,
        requantizedChannels: this.requantizedChannels,
        maxWeightErrorLsb: this.maxWeightErrorLsb,
        maxWeightError: this.maxWeightError,
        maxBiasErrorLsb: this.maxBiasErrorLsb,
        origin,
      },
    };
  }

  /** Empties the buffers the conversions replaced, unless another tensor (any subgraph) or metadata reads them. */
  #releaseBuffers(): void {
    if (this.#released.size === 0) return;
    const used = new Set<number>();
    for (const t of this.#tensors) used.add(t.buffer);
    for (const graph of this.#model.subgraphs.slice(1)) for (const t of graph.tensors) used.add(t.buffer);
    for (const m of this.#model.metadata ?? []) used.add(m.buffer);
    for (const b of this.#model.metadataBuffer ?? []) used.add(b);
    for (const b of this.#released) if (b !== 0 && !used.has(b)) this.#buffers[b] = {};
  }
}

/**
 * Rewrites the uint8-quantized compute of subgraph 0 as int8 (see the module comment for the rules); the
 * model's inputs and outputs stay exactly as they were. A model without uint8 compute comes back as it is
 * (the same object) with an empty report. The input model is never modified.
 *
 * A rewritten model has passed {@link verifyModel} (a few milliseconds): what goes to TFLite in place of a
 * verified file is verified too.
 *
 * @throws InvalidModelError when the rewritten model fails verification (the message names the rule and the
 *   tensor or op); callers that have the original can run that instead.
 */
export function rewriteToInt8(model: TfliteModel): Int8RewriteResult {
  checkModel(model, 'rewriteToInt8(model)');
  const plan = planInt8Rewrite(model);
  if (plan.rewrite.length > 0) {
    const result = new Rewriter(model, plan).run();
    verifyModel(result.model);
    return result;
  }
  return {
    model,
    report: {
      rewritten: {},
      opsRewritten: 0,
      kept: plan.kept,
      conversions: 0,
      weightTensors: 0,
      requantizedWeightTensors: 0,
      channels: 0,
      requantizedChannels: 0,
      maxWeightErrorLsb: 0,
      maxWeightError: 0,
      maxBiasErrorLsb: 0,
      origin: model.subgraphs[0]?.operators.map((_, i) => i) ?? [],
    },
  };
}

/**
 * Maps the cut points of the original model (0..n, docs/splitting.md) to those of its rewrite: cut k of the
 * original, ops [0,k) | [k,n), is cut `map[k]` of the rewrite, where the conversions an op needs before it go
 * with that op. The rewrite's own cut points in between are usable too (they split a conversion from its op).
 */
export function int8CutMap(original: TfliteModel, result: Int8RewriteResult): number[] {
  checkModel(original, 'int8CutMap(original)');
  const before = analyzeModel(original).ops;
  const after = analyzeModel(result.model).ops;
  const origin = result.report.origin;
  const first = new Map<number, number>();
  after.forEach((op, position) => {
    const group = origin[op.index]!;
    if (!first.has(group)) first.set(group, position);
  });
  return [...before.map((op) => first.get(op.index)!), after.length];
}
