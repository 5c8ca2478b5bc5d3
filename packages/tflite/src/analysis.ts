/**
 * Per-op analysis of subgraph 0: op order after constant-only attribution, MACs, weight and activation bytes,
 * and Edge TPU mappability. Definitions and sources: docs/splitting.md.
 */
import { InvalidModelError } from '@swapless/core';
import type { Operator, Tensor, TfliteModel } from './model.js';
import { TensorType, tensorTypeName } from './model.js';
import { BuiltinOperator, builtinOperatorName } from './ops.js';
import { EDGETPU_CUSTOM_OP, runnability } from './runnability.js';

/** Builtin operator codes (schema enum BuiltinOperator). */
const OP = BuiltinOperator;

/**
 * Ops of the Edge TPU's "supported operations" table (coral.ai/docs/edgetpu/models-intro, compiler/runtime
 * version 14+). DEQUANTIZE, HARD_SWISH and DEPTH_TO_SPACE are not in it.
 */
const EDGETPU_SUPPORTED: ReadonlySet<number> = new Set([
  OP.ADD,
  OP.AVERAGE_POOL_2D,
  OP.CONCATENATION,
  OP.CONV_2D,
  OP.DEPTHWISE_CONV_2D,
  OP.EXPAND_DIMS,
  OP.FULLY_CONNECTED,
  OP.L2_NORMALIZATION,
  OP.LOGISTIC,
  OP.UNIDIRECTIONAL_SEQUENCE_LSTM,
  OP.MAXIMUM,
  OP.MAX_POOL_2D,
  OP.MEAN,
  OP.MINIMUM,
  OP.MUL,
  OP.PACK,
  OP.PAD,
  OP.PRELU,
  OP.QUANTIZE,
  OP.REDUCE_MAX,
  OP.REDUCE_MIN,
  OP.RELU,
  OP.RELU6,
  OP.RELU_N1_TO_1,
  OP.RESHAPE,
  OP.RESIZE_BILINEAR,
  OP.RESIZE_NEAREST_NEIGHBOR,
  OP.RSQRT,
  OP.SLICE,
  OP.SOFTMAX,
  OP.SPACE_TO_DEPTH,
  OP.SPLIT,
  OP.SQUARED_DIFFERENCE,
  OP.SQUEEZE,
  OP.STRIDED_SLICE,
  OP.SUB,
  OP.SUM,
  OP.TANH,
  OP.TRANSPOSE,
  OP.TRANSPOSE_CONV,
]);

/** Ops that only move or re-view data: 0 MACs by the convention of docs/splitting.md. */
const DATA_MOVEMENT: ReadonlySet<number> = new Set([
  OP.RESHAPE,
  OP.SQUEEZE,
  OP.EXPAND_DIMS,
  OP.CONCATENATION,
  OP.PAD,
  OP.PADV2,
  OP.MIRROR_PAD,
  OP.SLICE,
  OP.STRIDED_SLICE,
  OP.TRANSPOSE,
  OP.SPLIT,
  OP.SPLIT_V,
  OP.PACK,
  OP.UNPACK,
  OP.GATHER,
  OP.GATHER_ND,
  OP.DEPTH_TO_SPACE,
  OP.SPACE_TO_DEPTH,
  OP.BATCH_TO_SPACE_ND,
  OP.SPACE_TO_BATCH_ND,
  OP.TILE,
  OP.CAST,
  OP.RESIZE_NEAREST_NEIGHBOR,
]);

/** Reductions: one MAC-equivalent per input element. */
const REDUCTIONS: ReadonlySet<number> = new Set([
  OP.MEAN,
  OP.SUM,
  OP.REDUCE_MAX,
  OP.REDUCE_MIN,
  OP.REDUCE_PROD,
  OP.SOFTMAX,
  OP.LOG_SOFTMAX,
  OP.L2_NORMALIZATION,
]);

const ELEMENT_BITS: Readonly<Record<number, number>> = {
  [TensorType.FLOAT32]: 32,
  [TensorType.FLOAT16]: 16,
  [TensorType.INT32]: 32,
  [TensorType.UINT8]: 8,
  [TensorType.INT64]: 64,
  [TensorType.BOOL]: 8,
  [TensorType.INT16]: 16,
  [TensorType.COMPLEX64]: 64,
  [TensorType.INT8]: 8,
  [TensorType.FLOAT64]: 64,
  [TensorType.COMPLEX128]: 128,
  [TensorType.UINT64]: 64,
  [TensorType.UINT32]: 32,
  [TensorType.UINT16]: 16,
  [TensorType.INT4]: 4,
};

/** Number of elements of a static shape (a scalar has one). Negative (dynamic) dims count as 1. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d > 0 ? d : 1;
  return n;
}

/** Bytes of a tensor's data at its static shape; 0 for types without a fixed element size (string, resource). */
export function tensorBytes(tensor: Tensor): number {
  const bits = ELEMENT_BITS[tensor.type];
  return bits === undefined ? 0 : Math.ceil((elementCount(tensor.shape) * bits) / 8);
}

/**
 * The op order every part of SwapLess agrees on (internal, shared by analysis, cuts and split).
 *
 * A *constant-only* op has at least one input, all of its present inputs are constant (a buffer with data)
 * or outputs of other constant-only ops, none of its outputs is a model output or variable, and at least one
 * of its outputs is consumed. It is not a step of its own: it is *attributed* to the compute ops that
 * (transitively) consume it. Every other op is a *compute op*; compute ops keep their original relative order
 * and their positions 0..n-1 are the op order on which a cut `k` is defined.
 */
export interface Schedule {
  /** Number of compute ops (cut points are 0..n). */
  readonly n: number;
  /** Original op index of the compute op at each position. */
  readonly computeOps: readonly number[];
  /** Per original op: its position if a compute op, else -1. */
  readonly positionOf: Int32Array;
  /** Per original op: true for constant-only (attributed) ops. */
  readonly constantOnly: Uint8Array;
  /** Per original op that is constant-only: the lowest position of a compute op that consumes it. */
  readonly firstConsumer: Int32Array;
  /** Per compute position: original indices of the constant-only ops attributed to it (first consumer). */
  readonly attached: readonly (readonly number[])[];
  /** Per tensor: 1 = constant (buffer with data), 2 = output of a constant-only op, 0 = activation. */
  readonly constness: Uint8Array;
  /** Per tensor: original index of the op producing it, or -1. */
  readonly producer: Int32Array;
  /** Per tensor: position of the compute op producing it; -1 for model inputs and unproduced tensors. */
  readonly producedAt: Int32Array;
  /** Per tensor: highest position of a compute op consuming it, or -1 if no compute op does. */
  readonly lastUse: Int32Array;
  /** Per tensor: lowest position of a compute op consuming it, or -1. */
  readonly firstUse: Int32Array;
  /** Per tensor: true when it is a model input / model output of subgraph 0. */
  readonly isInput: Uint8Array;
  readonly isOutput: Uint8Array;
}

/**
 * True when the tensor's buffer holds inline data: what TFLite 2.9 loads as a read-only tensor, a variable's
 * initial value included (it knows nothing of the newer offset/size buffers). The verifier and the int8
 * rewrite, which look at the bytes TFLite will see, ask this; the op order asks {@link isConstantTensor}.
 */
export function hasBufferData(model: TfliteModel, tensor: Tensor): boolean {
  return tensor.buffer !== 0 && (model.buffers[tensor.buffer]?.data?.length ?? 0) > 0;
}

/**
 * True when the tensor's buffer carries constant data, inline or as an offset/size pair. A variable tensor is
 * never constant: a buffer on it holds only the initial value of state that ops change between runs.
 */
export function isConstantTensor(model: TfliteModel, tensor: Tensor): boolean {
  if (tensor.buffer === 0 || tensor.isVariable) return false;
  return hasBufferData(model, tensor) || (model.buffers[tensor.buffer]?.size ?? 0) > 0;
}

/** Stored bytes of a buffer (inline data or an offset/size pair). */
export function bufferBytes(model: TfliteModel, index: number): number {
  const buffer = model.buffers[index];
  if (buffer === undefined || index === 0) return 0;
  return buffer.data?.length ?? buffer.size ?? 0;
}

const schedules = new WeakMap<TfliteModel, Schedule>();

/**
 * Builds (and caches per model object) the {@link Schedule} of subgraph 0. Models are treated as immutable:
 * mutate one after analysing it and the cache is stale.
 */
export function scheduleOf(model: TfliteModel): Schedule {
  const cached = schedules.get(model);
  if (cached !== undefined) return cached;
  const graph = model.subgraphs[0];
  if (graph === undefined) {
    throw new InvalidModelError(
      'Expected a model with at least one subgraph for analysis but received 0 subgraphs',
    );
  }
  const { tensors, operators } = graph;
  const nt = tensors.length;
  const no = operators.length;
  const checkTensor = (t: number, where: string): void => {
    if (!Number.isInteger(t) || t < -1 || t >= nt) {
      throw new InvalidModelError(
        `Expected a tensor index between -1 and ${nt - 1} for ${where} but received ${String(t)}`,
      );
    }
  };
  const isInput = new Uint8Array(nt);
  const isOutput = new Uint8Array(nt);
  for (const t of graph.inputs) {
    checkTensor(t, 'a subgraph input');
    isInput[t] = 1;
  }
  for (const t of graph.outputs) {
    checkTensor(t, 'a subgraph output');
    isOutput[t] = 1;
  }
  const constness = new Uint8Array(nt);
  for (let t = 0; t < nt; t++) if (isConstantTensor(model, tensors[t]!)) constness[t] = 1;

  const producer = new Int32Array(nt).fill(-1);
  const consumerCount = new Int32Array(nt);
  const candidate = new Uint8Array(no);
  for (let o = 0; o < no; o++) {
    const op = operators[o]!;
    let present = 0;
    let allConst = true;
    for (const t of op.inputs) {
      checkTensor(t, `an input of op ${o}`);
      if (t < 0) continue;
      present++;
      consumerCount[t]!++;
      if (constness[t] === 0) allConst = false;
    }
    let outputsOk = op.outputs.length > 0;
    for (const t of op.outputs) {
      checkTensor(t, `an output of op ${o}`);
      if (t < 0) continue;
      producer[t] = o;
      if (isOutput[t] === 1 || tensors[t]!.isVariable) outputsOk = false;
    }
    if (present > 0 && allConst && outputsOk) {
      candidate[o] = 1;
      // Outputs become constant-derived only if the op is kept as constant-only (decided below on use).
      for (const t of op.outputs) if (t >= 0) constness[t] = 2;
    }
  }
  // A candidate whose outputs nobody consumes is dead weight of the graph: keep it as a compute op.
  const constantOnly = new Uint8Array(no);
  for (let o = 0; o < no; o++) {
    if (candidate[o] === 0) continue;
    const used = operators[o]!.outputs.some((t) => t >= 0 && consumerCount[t]! > 0);
    if (used) constantOnly[o] = 1;
    else for (const t of operators[o]!.outputs) if (t >= 0) constness[t] = 0;
  }

  const computeOps: number[] = [];
  const positionOf = new Int32Array(no).fill(-1);
  for (let o = 0; o < no; o++) {
    if (constantOnly[o] === 0) {
      positionOf[o] = computeOps.length;
      computeOps.push(o);
    }
  }
  const n = computeOps.length;
  const producedAt = new Int32Array(nt).fill(-1);
  const firstUse = new Int32Array(nt).fill(-1);
  const lastUse = new Int32Array(nt).fill(-1);
  for (let p = 0; p < n; p++) {
    const op = operators[computeOps[p]!]!;
    for (const t of op.inputs) {
      if (t < 0) continue;
      if (firstUse[t] === -1) firstUse[t] = p;
      lastUse[t] = p;
    }
    for (const t of op.outputs) if (t >= 0) producedAt[t] = p;
  }
  const { firstConsumer, attached } = attachConstantOps(operators, computeOps, constantOnly, nt);
  const schedule: Schedule = {
    n,
    computeOps,
    positionOf,
    constantOnly,
    firstConsumer,
    attached,
    constness,
    producer,
    producedAt,
    lastUse,
    firstUse,
    isInput,
    isOutput,
  };
  schedules.set(model, schedule);
  return schedule;
}

/**
 * Attaches each constant-only op to the first compute position that consumes its results, directly or through
 * other constant-only ops (-1: none); `attached[p]` lists the constant-only ops that run with compute op `p`.
 */
function attachConstantOps(
  operators: readonly Operator[],
  computeOps: readonly number[],
  constantOnly: Uint8Array,
  nt: number,
): { firstConsumer: Int32Array; attached: number[][] } {
  const no = operators.length;
  const n = computeOps.length;
  const firstConsumer = new Int32Array(no).fill(-1);
  const minConsumer = new Int32Array(nt).fill(-1);
  for (let p = 0; p < n; p++) {
    for (const t of operators[computeOps[p]!]!.inputs)
      if (t >= 0 && minConsumer[t] === -1) minConsumer[t] = p;
  }
  // Consumers come later in op order, so walk back.
  for (let o = no - 1; o >= 0; o--) {
    if (constantOnly[o] === 0) continue;
    let best = -1;
    for (const t of operators[o]!.outputs) {
      if (t < 0) continue;
      const m = minConsumer[t]!;
      if (m >= 0 && (best === -1 || m < best)) best = m;
    }
    firstConsumer[o] = best;
    // Propagate to this op's constant-derived inputs (their consumer chain reaches `best` through this op).
    for (const t of operators[o]!.inputs) {
      if (t < 0 || best < 0) continue;
      if (minConsumer[t] === -1 || best < minConsumer[t]!) minConsumer[t] = best;
    }
  }
  const attached: number[][] = Array.from({ length: n }, () => []);
  for (let o = 0; o < no; o++) {
    const p = firstConsumer[o]!;
    if (constantOnly[o] === 1 && p >= 0) attached[p]!.push(o);
  }
  return { firstConsumer, attached };
}

/** Whether an op (with its attributed constant-only ops) can run on the Edge TPU, and why not. */
export interface EdgeTpuMapping {
  mappable: boolean;
  /** Why the op cannot map; absent when it can. */
  reason?: string;
}

/** Analysis of one compute op (a step of the op order) of subgraph 0. */
export interface OpAnalysis {
  /** Position in the op order (what a cut point `k` counts). */
  position: number;
  /** Index of the op in the model's operator list. */
  index: number;
  /** Builtin operator name (e.g. "CONV_2D") or the custom code of a custom op. */
  type: string;
  /** Original indices of the constant-only ops attributed to this op (it is their first consumer). */
  attached: number[];
  /** Tensor indices of the op's inputs (-1 = absent), as in the model. */
  inputs: number[];
  /** Tensor indices of the op's outputs. */
  outputs: number[];
  /** Multiply-accumulates, or MAC-equivalents for non-linear ops (convention in docs/splitting.md). */
  macs: number;
  /** Stored bytes of the constant buffers this op is the first to read (directly or through attached ops). */
  weightBytes: number;
  /** Elements of the constant tensors counted in `weightBytes`: the op's parameter count. */
  params: number;
  /** Bytes of the activation (non-constant) inputs. */
  inputBytes: number;
  /** Bytes of the outputs. */
  outputBytes: number;
  /** Edge TPU mappability of the op and its attached constant-only ops. */
  edgetpu: EdgeTpuMapping;
}

/** Result of {@link analyzeModel}. */
export interface ModelAnalysis {
  /** One entry per compute op, in op order (`ops[k]` is the first op of the tail at cut k). */
  ops: OpAnalysis[];
  /** Number of compute ops, n (cut points are 0..n). */
  n: number;
  /** Number of operators in the model, including constant-only ones. */
  operatorCount: number;
  totals: {
    macs: number;
    /** Stored bytes of every constant buffer read by some op (each buffer counted once). */
    weightBytes: number;
    /** Elements of every constant tensor read by some op (each buffer counted once): the parameter count. */
    params: number;
    /** Bytes of the model's input and output tensors. */
    inputBytes: number;
    outputBytes: number;
  };
  /**
   * The Edge-TPU-mappable prefix: ops [0, length) can map; `length === n` when all can. Otherwise the op at
   * position `length` is the first that cannot, and it and everything after it run on the CPU.
   */
  edgetpuPrefix: {
    length: number;
    /** Original op index of the first op that cannot map. */
    firstUnmappableOp?: number;
    reason?: string;
  };
}

/** Options of {@link analyzeModel}. */
export interface AnalyzeOptions {
  /**
   * Apply the documented per-op limits and tensor-shape rules (default true). With false, only the data type
   * and op type rules decide mappability.
   */
  edgetpuLimits?: boolean;
}

/** The builtin name or custom code of an op. */
export function opTypeName(model: TfliteModel, op: Operator): string {
  const code = model.operatorCodes[op.opcodeIndex];
  if (code === undefined) return `UNKNOWN_OPCODE_${op.opcodeIndex}`;
  if (code.builtinCode === OP.CUSTOM) return code.customCode ?? 'CUSTOM';
  return builtinOperatorName(code.builtinCode);
}

/**
 * Analyses subgraph 0 of a model: per compute op MACs, weight/activation bytes and Edge TPU mappability,
 * totals, and the Edge-TPU-mappable prefix. Constant-only ops are attributed to their first consumer.
 */
export function analyzeModel(model: TfliteModel, options: AnalyzeOptions = {}): ModelAnalysis {
  const s = scheduleOf(model);
  const graph = model.subgraphs[0]!;
  const limits = options.edgetpuLimits ?? true;
  const bufferSeen = new Set<number>();
  const ops: OpAnalysis[] = [];
  let macsTotal = 0;
  let weightTotal = 0;
  let paramsTotal = 0;
  let prefix = s.n;
  let firstUnmappableOp: number | undefined;
  let firstReason: string | undefined;
  for (let p = 0; p < s.n; p++) {
    const index = s.computeOps[p]!;
    const op = graph.operators[index]!;
    let weightBytes = 0;
    let params = 0;
    const own = (o: number): void => {
      for (const t of graph.operators[o]!.inputs) {
        if (t < 0 || s.constness[t] !== 1) continue;
        const b = graph.tensors[t]!.buffer;
        if (bufferSeen.has(b)) continue;
        bufferSeen.add(b);
        weightBytes += bufferBytes(model, b);
        params += graph.tensors[t]!.shape.reduce((a, d) => a * d, 1);
      }
    };
    // Attached ops first: their weights are stored before the consumer in the original order too.
    for (const a of collectAttached(model, s, index)) own(a);
    own(index);
    let inputBytes = 0;
    for (const t of op.inputs)
      if (t >= 0 && s.constness[t] === 0) inputBytes += tensorBytes(graph.tensors[t]!);
    let outputBytes = 0;
    for (const t of op.outputs) if (t >= 0) outputBytes += tensorBytes(graph.tensors[t]!);
    const macs = opMacs(model, op);
    const edgetpu = edgeTpuMapping(model, s, index, limits);
    if (!edgetpu.mappable && prefix === s.n) {
      prefix = p;
      firstUnmappableOp = index;
      firstReason = edgetpu.reason;
    }
    macsTotal += macs;
    weightTotal += weightBytes;
    paramsTotal += params;
    ops.push({
      position: p,
      index,
      type: opTypeName(model, op),
      attached: [...s.attached[p]!],
      inputs: [...op.inputs],
      outputs: [...op.outputs],
      macs,
      weightBytes,
      params,
      inputBytes,
      outputBytes,
      edgetpu,
    });
  }
  let inputBytes = 0;
  for (const t of graph.inputs) inputBytes += tensorBytes(graph.tensors[t]!);
  let outputBytes = 0;
  for (const t of graph.outputs) outputBytes += tensorBytes(graph.tensors[t]!);
  const edgetpuPrefix: ModelAnalysis['edgetpuPrefix'] = { length: prefix };
  if (firstUnmappableOp !== undefined) {
    edgetpuPrefix.firstUnmappableOp = firstUnmappableOp;
    if (firstReason !== undefined) edgetpuPrefix.reason = firstReason;
  }
  return {
    ops,
    n: s.n,
    operatorCount: graph.operators.length,
    totals: { macs: macsTotal, weightBytes: weightTotal, params: paramsTotal, inputBytes, outputBytes },
    edgetpuPrefix,
  };
}

/**
 * All constant-only ops a compute op needs (transitively through constant-derived inputs), in op order.
 * Shared constant-only ops appear for every consumer; {@link Schedule.attached} lists each once.
 */
export function collectAttached(model: TfliteModel, s: Schedule, opIndex: number): number[] {
  const graph = model.subgraphs[0]!;
  const found = new Set<number>();
  const stack = [opIndex];
  while (stack.length > 0) {
    const o = stack.pop()!;
    for (const t of graph.operators[o]!.inputs) {
      if (t < 0 || s.constness[t] !== 2) continue;
      const src = s.producer[t]!;
      if (src >= 0 && !found.has(src)) {
        found.add(src);
        stack.push(src);
      }
    }
  }
  return [...found].sort((a, b) => a - b);
}

function optionNumber(op: Operator, field: string): number | undefined {
  const v = op.builtinOptions?.fields[field];
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

function shapeOf(model: TfliteModel, t: number | undefined): number[] | undefined {
  if (t === undefined || t < 0) return undefined;
  return model.subgraphs[0]!.tensors[t]?.shape;
}

/** MACs of one op, by the convention documented in docs/splitting.md. */
export function opMacs(model: TfliteModel, op: Operator): number {
  const code = model.operatorCodes[op.opcodeIndex]?.builtinCode ?? -1;
  const out = shapeOf(model, op.outputs[0]);
  const outElems = out === undefined ? 0 : elementCount(out);
  const dim = (shape: number[] | undefined, i: number): number => {
    if (shape === undefined) return 1;
    const d = shape[i < 0 ? shape.length + i : i];
    return d !== undefined && d > 0 ? d : 1;
  };
  switch (code) {
    case OP.CONV_2D: {
      // filter [O, KH, KW, I/groups]
      const f = shapeOf(model, op.inputs[1]);
      return outElems * dim(f, 1) * dim(f, 2) * dim(f, 3);
    }
    case OP.DEPTHWISE_CONV_2D: {
      const f = shapeOf(model, op.inputs[1]);
      return outElems * dim(f, 1) * dim(f, 2);
    }
    case OP.TRANSPOSE_CONV: {
      // inputs: output_shape, weights [O, KH, KW, I], input
      const f = shapeOf(model, op.inputs[1]);
      const x = shapeOf(model, op.inputs[2]);
      return (x === undefined ? 0 : elementCount(x)) * dim(f, 0) * dim(f, 1) * dim(f, 2);
    }
    case OP.FULLY_CONNECTED: {
      const w = shapeOf(model, op.inputs[1]);
      return outElems * dim(w, -1);
    }
    case OP.BATCH_MATMUL: {
      const a = shapeOf(model, op.inputs[0]);
      const adjX = optionNumber(op, 'adjX') === 1;
      return outElems * dim(a, adjX ? -2 : -1);
    }
    case OP.AVERAGE_POOL_2D:
    case OP.MAX_POOL_2D:
    case OP.L2_POOL_2D:
      return outElems * (optionNumber(op, 'filterWidth') ?? 1) * (optionNumber(op, 'filterHeight') ?? 1);
    default:
      break;
  }
  if (DATA_MOVEMENT.has(code)) return 0;
  if (REDUCTIONS.has(code)) {
    const x = shapeOf(model, op.inputs[0]);
    return x === undefined ? 0 : elementCount(x);
  }
  // Element-wise arithmetic, activations, (de)quantization, resize-bilinear, custom ops: one per output element.
  return outElems;
}

const INNERMOST = 3;
const SOFTMAX_MAX_ELEMENTS = 16000;

function describeTensor(model: TfliteModel, t: number): string {
  const tensor = model.subgraphs[0]!.tensors[t]!;
  return `tensor ${t}${tensor.name ? ` "${tensor.name}"` : ''}`;
}

/** Reads integer data of a constant INT32/INT64 tensor; undefined when not a readable constant. */
function constantInts(model: TfliteModel, t: number | undefined): number[] | undefined {
  if (t === undefined || t < 0) return undefined;
  const tensor = model.subgraphs[0]!.tensors[t];
  if (tensor === undefined) return undefined;
  const data = model.buffers[tensor.buffer]?.data;
  if (data === undefined || tensor.buffer === 0) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const values: number[] = [];
  if (tensor.type === TensorType.INT32) {
    for (let i = 0; i + 4 <= data.byteLength; i += 4) values.push(view.getInt32(i, true));
  } else if (tensor.type === TensorType.INT64) {
    for (let i = 0; i + 8 <= data.byteLength; i += 8) values.push(Number(view.getBigInt64(i, true)));
  } else {
    return undefined;
  }
  return values;
}

const QUANTIZED_8BIT = new Set<number>([TensorType.INT8, TensorType.UINT8]);
const PARAMETER_TYPES = new Set<number>([
  TensorType.INT8,
  TensorType.UINT8,
  TensorType.INT32,
  TensorType.INT64,
]);

/** The Edge TPU rules of docs/splitting.md for one compute op and the constant-only ops it needs. */
function edgeTpuMapping(model: TfliteModel, s: Schedule, index: number, limits: boolean): EdgeTpuMapping {
  const graph = model.subgraphs[0]!;
  const op = graph.operators[index]!;
  const no = (reason: string): EdgeTpuMapping => ({ mappable: false, reason });
  const code = model.operatorCodes[op.opcodeIndex]?.builtinCode ?? -1;
  const name = opTypeName(model, op);
  if (code === OP.CUSTOM) {
    // The compiler's own op is Edge TPU code already: it is not a candidate for mapping, and saying it is
    // "not supported by the Edge TPU" would be false.
    if (name === EDGETPU_CUSTOM_OP) return no(`${name} is already compiled for the Edge TPU`);
    return no(`custom op "${name}" is not supported by the Edge TPU`);
  }
  if (!EDGETPU_SUPPORTED.has(code)) return no(`${name} is not in the Edge TPU's supported operations`);
  const tensorIds = [...op.inputs, ...op.outputs].filter((t) => t >= 0);
  for (const t of tensorIds) {
    const tensor = graph.tensors[t]!;
    if (s.constness[t] === 0) {
      const q = tensor.quantization;
      if (!QUANTIZED_8BIT.has(tensor.type) || q?.scale === undefined || q.scale.length === 0) {
        return no(`${describeTensor(model, t)} is ${tensorTypeName(tensor.type)}, not int8/uint8-quantized`);
      }
    } else if (!PARAMETER_TYPES.has(tensor.type)) {
      return no(`parameter ${describeTensor(model, t)} is ${tensorTypeName(tensor.type)}, not quantized`);
    }
    if (tensor.shapeSignature?.some((d) => d < 0)) {
      return no(`${describeTensor(model, t)} has a dynamic shape`);
    }
  }
  const attached = collectAttached(model, s, index);
  if (attached.length > 0) {
    const a = attached[0]!;
    const what = opTypeName(model, graph.operators[a]!);
    return no(
      `its parameters come from constant-only op ${a} (${what}), which the Edge TPU does not support`,
    );
  }
  if (!limits) return { mappable: true };
  for (const t of tensorIds) {
    if (s.constness[t] !== 0) continue;
    const shape = graph.tensors[t]!.shape;
    for (let i = 0; i < shape.length - INNERMOST; i++) {
      if (shape[i]! > 1) {
        return no(
          `${describeTensor(model, t)} has shape [${shape.join(',')}]: only the 3 innermost dimensions may exceed 1`,
        );
      }
    }
  }
  const reason = opLimit(model, s, op, code, name);
  return reason === undefined ? { mappable: true } : no(reason);
}

/** The per-op limits of the Edge TPU (options, constant inputs, axes, sizes): why `op` cannot map, or undefined. */
function opLimit(
  model: TfliteModel,
  s: Schedule,
  op: Operator,
  code: number,
  name: string,
): string | undefined {
  const fused = optionNumber(op, 'fusedActivationFunction') ?? 0;
  const inShape = shapeOf(model, op.inputs[0]) ?? [];
  const rank = inShape.length;
  const axisOf = (a: number): number => (a < 0 ? a + rank : a);
  switch (code) {
    case OP.AVERAGE_POOL_2D:
    case OP.MAX_POOL_2D:
      if (fused !== 0) return `${name} with a fused activation function`;
      break;
    case OP.CONCATENATION: {
      if (fused !== 0) return `${name} with a fused activation function`;
      const constants = op.inputs.filter((t) => t >= 0 && s.constness[t] !== 0);
      if (constants.length > 0) {
        if (op.inputs.length !== 2) return `${name} with a constant input must have exactly 2 inputs`;
        if (!constants.every((t) => isAllZero(model, t))) return `${name} with a non-zero constant input`;
      }
      break;
    }
    case OP.CONV_2D:
    case OP.DEPTHWISE_CONV_2D:
      if ((optionNumber(op, 'dilationWFactor') ?? 1) !== (optionNumber(op, 'dilationHFactor') ?? 1)) {
        return `${name} with different dilations in x and y`;
      }
      break;
    case OP.FULLY_CONNECTED: {
      if ((optionNumber(op, 'weightsFormat') ?? 0) !== 0) return `${name} with non-default weights format`;
      const out = shapeOf(model, op.outputs[0]) ?? [];
      if (out.filter((d) => d > 1).length > 1) return `${name} whose output is not one-dimensional`;
      break;
    }
    case OP.MEAN:
    case OP.SUM:
    case OP.REDUCE_MAX:
    case OP.REDUCE_MIN: {
      const axes = constantInts(model, op.inputs[1]);
      if (axes === undefined) return `${name} with non-constant axes`;
      if (axes.some((a) => axisOf(a) === 0) && rank > 1) return `${name} reducing the batch dimension`;
      if (code === OP.MEAN && rank >= 3 && axes.some((a) => axisOf(a) === rank - 1)) {
        if ((inShape[rank - 1] ?? 0) % 4 !== 0) return `${name} reducing a depth that is not a multiple of 4`;
      }
      break;
    }
    case OP.PAD: {
      const pads = constantInts(model, op.inputs[1]);
      if (pads === undefined) return `${name} with non-constant paddings`;
      if (rank > 1 && (pads[0] !== 0 || pads[1] !== 0)) return `${name} padding the batch dimension`;
      break;
    }
    case OP.SPLIT: {
      const axis = constantInts(model, op.inputs[0]);
      if (axis?.[0] === undefined) return `${name} with a non-constant axis`;
      const splitRank = (shapeOf(model, op.inputs[1]) ?? []).length;
      const a = axis[0] < 0 ? axis[0] + splitRank : axis[0];
      if (a === 0 && splitRank > 1) return `${name} along the batch dimension`;
      break;
    }
    case OP.PACK:
      if ((optionNumber(op, 'axis') ?? 0) === 0) return `${name} along the batch dimension`;
      break;
    case OP.SOFTMAX:
      if (inShape.filter((d) => d > 1).length > 1) return `${name} whose input is not one-dimensional`;
      if (elementCount(inShape) > SOFTMAX_MAX_ELEMENTS) {
        return `${name} over more than ${SOFTMAX_MAX_ELEMENTS} elements`;
      }
      break;
    case OP.STRIDED_SLICE: {
      const strides = constantInts(model, op.inputs[3]);
      if (strides === undefined || strides.some((v) => v !== 1)) return `${name} with strides other than 1`;
      if ((optionNumber(op, 'ellipsisMask') ?? 0) !== 0 || (optionNumber(op, 'newAxisMask') ?? 0) !== 0) {
        return `${name} with an ellipsis or new-axis mask`;
      }
      break;
    }
    case OP.PRELU: {
      const alpha = shapeOf(model, op.inputs[1]) ?? [];
      if (alpha.slice(0, -1).some((d) => d > 1)) return `${name} whose alpha is not one-dimensional`;
      break;
    }
    default:
      break;
  }
  return undefined;
}

function isAllZero(model: TfliteModel, t: number): boolean {
  const tensor = model.subgraphs[0]!.tensors[t]!;
  const data = model.buffers[tensor.buffer]?.data;
  if (data === undefined) return false;
  const zp = tensor.quantization?.zeroPoint?.[0] ?? 0;
  if (tensor.type === TensorType.INT8) return data.every((b) => (b << 24) >> 24 === zp);
  if (tensor.type === TensorType.UINT8) return data.every((b) => b === zp);
  return data.every((b) => b === 0);
}

/**
 * What a model file holds, as `swapless inspect` reports it: `compiled` (an `edgetpu-custom-op`: made by
 * `edgetpu_compiler`; the same test as `runnability(model).compiled`), `float` (no activation of any compute op
 * is 8-bit quantized, so nothing can ever map to the Edge TPU), or `quantized` (everything else: some
 * activations are int8/uint8, and its Edge TPU prefix decides the cuts). What SwapLess does with the model as a
 * tenant is `@swapless/controller`'s `TenantClass`.
 */
export type ModelClass = 'compiled' | 'float' | 'quantized';

/** Classifies a model; see {@link ModelClass}. */
export function modelClass(model: TfliteModel): ModelClass {
  if (runnability(model).compiled) return 'compiled';
  const s = scheduleOf(model);
  const graph = model.subgraphs[0]!;
  let quantized = false;
  for (const o of s.computeOps) {
    const op = graph.operators[o]!;
    for (const t of [...op.inputs, ...op.outputs]) {
      if (t < 0 || s.constness[t] !== 0) continue;
      const tensor = graph.tensors[t]!;
      if (QUANTIZED_8BIT.has(tensor.type) && (tensor.quantization?.scale?.length ?? 0) > 0) quantized = true;
    }
  }
  return quantized ? 'quantized' : 'float';
}

/**
 * The sentence for a model of which nothing maps to the Edge TPU (an empty mappable prefix), or undefined when a
 * prefix maps. Such a model can only be a CPU-only tenant (k = 0). One home for it: `inspect`, `plan`, `bench`,
 * `emulate`, `compile` and the server say the same words.
 *
 * - a float model: `float model: nothing maps to the Edge TPU`;
 * - otherwise the first op of the op order and, unless its type is simply not an Edge TPU op, the rule it breaks:
 *   `nothing of this model maps to the Edge TPU (op 0 is CAST)`.
 */
export function emptyPrefixSentence(
  model: TfliteModel,
  analysis: ModelAnalysis = analyzeModel(model),
): string | undefined {
  if (analysis.edgetpuPrefix.length > 0) return undefined;
  const op = analysis.ops[0];
  if (op === undefined) return 'the model has no ops: nothing maps to the Edge TPU';
  if (modelClass(model) === 'float') return 'float model: nothing maps to the Edge TPU';
  const why = op.edgetpu.reason;
  // "CAST is not in the Edge TPU's supported operations" adds nothing to "op 0 is CAST".
  const detail = why === undefined || why.startsWith(`${op.type} is not in`) ? '' : `: ${why}`;
  return `nothing of this model maps to the Edge TPU (op 0 is ${op.type}${detail})`;
}
