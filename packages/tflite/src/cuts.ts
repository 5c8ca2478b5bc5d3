/**
 * Cut points of subgraph 0: for every k in 0..n, the tensors that cross the cut and the cost on each side.
 * Definitions (op order, constant-only attribution, boundary): docs/splitting.md.
 */
import { expected, InvalidCutError } from '@swapless/core';
import {
  analyzeModel,
  bufferBytes,
  collectAttached,
  type Schedule,
  scheduleOf,
  tensorBytes,
} from './analysis.js';
import { TensorType, type TfliteModel, tensorTypeName } from './model.js';
import { unwritableReason } from './writer.js';

/**
 * One tensor crossing a cut. Order contract: a boundary is sorted by ascending original tensor index.
 */
export interface BoundaryTensor {
  /** Index of the tensor in the original model's subgraph 0. */
  tensor: number;
  /** The tensor's name, kept in both parts so a chained runner can match head outputs to tail inputs. */
  name: string;
  shape: number[];
  /** TensorType id. */
  type: number;
  /** Bytes of the tensor at its static shape. */
  bytes: number;
  /**
   * `head`: produced by an op before the cut (it is an output of the head). `input`: an original model input
   * that the tail consumes; it is fed to the tail directly and is never an output of the head.
   */
  source: 'head' | 'input';
  /** True when some op at or after the cut consumes it (it is an input of the tail). */
  toTail: boolean;
  /** Index in the original model's outputs when the tensor is a model output, else undefined. */
  modelOutput?: number;
}

/** Costs and boundary of one cut k: ops [0,k) form the prefix (Edge TPU), ops [k,n) the suffix (CPU). */
export interface CutPoint {
  k: number;
  /** Tensors crossing the cut, by ascending original tensor index. */
  boundary: BoundaryTensor[];
  /** Bytes of all boundary tensors. */
  bytes: number;
  /** Bytes of the boundary tensors produced by the prefix (what leaves the Edge TPU). */
  transferBytes: number;
  prefixMacs: number;
  suffixMacs: number;
  /** Stored bytes of the constant buffers the prefix reads (a buffer both sides read counts on both). */
  prefixWeightBytes: number;
  suffixWeightBytes: number;
  /** True when every op of the prefix [0,k) can map to the Edge TPU. */
  edgetpuMappable: boolean;
  /**
   * False when the model cannot be split here (docs/splitting.md, "Unusable cuts"): a variable tensor (state kept
   * between runs) is used on both sides, a tensor that cannot travel between two interpreters would cross, or
   * the model as a whole cannot be split. Always true for k = 0 and k = n, where nothing is split (one side runs
   * the whole model). `rankCuts` never returns an unusable cut and `splitModel` refuses it.
   */
  usable: boolean;
  /** Why the cut cannot be used, in a user's words; absent when `usable`. */
  reason?: string;
}

/** Per compute position, the constant buffers it reads (directly or through constant-only ops it needs). */
function buffersPerPosition(model: TfliteModel, s: Schedule): number[][] {
  const graph = model.subgraphs[0]!;
  const result: number[][] = [];
  for (let p = 0; p < s.n; p++) {
    const opIndex = s.computeOps[p]!;
    const set = new Set<number>();
    for (const o of [...collectAttached(model, s, opIndex), opIndex]) {
      for (const t of graph.operators[o]!.inputs) {
        if (t >= 0 && s.constness[t] === 1) set.add(graph.tensors[t]!.buffer);
      }
    }
    result.push([...set]);
  }
  return result;
}

/** The interval of cuts (start..end inclusive) at which a non-constant tensor is a boundary tensor. */
function liveInterval(s: Schedule, t: number): [number, number] | undefined {
  if (s.constness[t] !== 0) return undefined;
  const produced = s.producedAt[t]!;
  if (produced < 0 && s.isInput[t] === 0) return undefined;
  const start = produced + 1;
  const end = s.isOutput[t] === 1 ? s.n : s.lastUse[t]!;
  return end >= start ? [start, end] : undefined;
}

function makeBoundaryTensor(model: TfliteModel, s: Schedule, t: number, k: number): BoundaryTensor {
  const graph = model.subgraphs[0]!;
  const tensor = graph.tensors[t]!;
  const b: BoundaryTensor = {
    tensor: t,
    name: tensor.name,
    shape: [...tensor.shape],
    type: tensor.type,
    bytes: tensorBytes(tensor),
    source: s.producedAt[t]! >= 0 ? 'head' : 'input',
    toTail: s.lastUse[t]! >= k,
  };
  if (s.isOutput[t] === 1) b.modelOutput = graph.outputs.indexOf(t);
  return b;
}

/** Throws {@link InvalidCutError} unless k is an integer in 0..n. */
export function checkCut(k: unknown, n: number, forWhat: string): asserts k is number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > n) {
    throw new InvalidCutError(expected(`an integer cut point between 0 and ${n}`, forWhat, k), {
      details: { k: typeof k === 'number' ? k : String(k), n },
    });
  }
}

/**
 * The boundary of one cut k (ascending original tensor index): non-constant tensors produced before k, or
 * model inputs, that are consumed at or after k, plus model outputs produced before k.
 */
export function boundaryAt(model: TfliteModel, k: number): BoundaryTensor[] {
  const s = scheduleOf(model);
  checkCut(k, s.n, `a model of ${s.n} ops`);
  const result: BoundaryTensor[] = [];
  const count = model.subgraphs[0]!.tensors.length;
  for (let t = 0; t < count; t++) {
    const live = liveInterval(s, t);
    if (live !== undefined && live[0] <= k && k <= live[1]) result.push(makeBoundaryTensor(model, s, t, k));
  }
  return result;
}

/** Tensor types whose values cannot be handed from one interpreter to another (handles, containers, strings). */
const UNTRANSFERABLE: ReadonlySet<number> = new Set([
  TensorType.RESOURCE,
  TensorType.VARIANT,
  TensorType.STRING,
]);

function describe(model: TfliteModel, t: number): string {
  const name = model.subgraphs[0]!.tensors[t]!.name;
  return `tensor ${t}${name ? ` "${name}"` : ''}`;
}

/** Why the model as a whole cannot be split (no cut between the ends can be used), or undefined. */
function modelSplitBlocker(model: TfliteModel, s: Schedule): string | undefined {
  if (model.subgraphs.length !== 1) {
    return `the model has ${model.subgraphs.length} subgraphs (control flow such as WHILE or IF calls other graphs by index); SwapLess splits single-graph models only`;
  }
  const graph = model.subgraphs[0]!;
  for (const [i, t] of graph.outputs.entries()) {
    if (s.constness[t] !== 0 || (s.producedAt[t]! < 0 && s.isInput[t] === 0)) {
      return `model output ${i} (${describe(model, t)}) is a constant, computed by no op, so no part could produce it`;
    }
  }
  const unwritable = unwritableReason(model);
  if (unwritable !== undefined) return `the model cannot be rewritten without losing data (${unwritable})`;
  return undefined;
}

/** A reason that blocks every cut k with `from <= k <= to`. */
interface Blocker {
  from: number;
  to: number;
  reason: string;
}

/**
 * What blocks cuts of a splittable model, in the order their reasons are given: a variable tensor (state kept
 * between runs) used by compute ops on both sides, then a head output the tail reads whose type cannot travel
 * between interpreters. Intervals, not a boundary scan per cut: the splitter lists the usable cuts in its error.
 */
function cutBlockers(model: TfliteModel, s: Schedule): Blocker[] {
  const graph = model.subgraphs[0]!;
  const out: Blocker[] = [];
  // Each variable tensor's span of compute positions [first, last] (inputs, outputs and intermediates).
  const spans = new Map<number, [number, number]>();
  for (let p = 0; p < s.n; p++) {
    const op = graph.operators[s.computeOps[p]!]!;
    for (const t of [...op.inputs, ...op.outputs, ...(op.intermediates ?? [])]) {
      if (t < 0 || !graph.tensors[t]!.isVariable) continue;
      const span = spans.get(t);
      if (span === undefined) spans.set(t, [p, p]);
      else span[1] = p;
    }
  }
  for (const [t, [a, b]] of spans) {
    if (a === b) continue;
    out.push({
      from: a + 1,
      to: b,
      reason: `variable ${describe(model, t)} keeps state between runs and is used by ops on both sides of the cut (op ${a} and op ${b}): the two parts would each keep their own copy of the state`,
    });
  }
  // Only head outputs that the tail reads travel between the parts (cuts producedAt+1..lastUse); model inputs
  // are fed by the caller.
  graph.tensors.forEach((tensor, t) => {
    const produced = s.producedAt[t]!;
    if (s.constness[t] !== 0 || produced < 0 || !UNTRANSFERABLE.has(tensor.type)) return;
    if (s.lastUse[t]! <= produced) return;
    out.push({
      from: produced + 1,
      to: s.lastUse[t]!,
      reason: `${describe(model, t)} of type ${tensorTypeName(tensor.type)} would cross the cut, and such a tensor cannot be passed from one model to another`,
    });
  });
  return out;
}

/** Which cuts of a model can be used: see {@link cutUsability}. */
export interface CutUsability {
  /** Why no cut between the ends can be used (the model as a whole cannot be split), or undefined. */
  whole: string | undefined;
  /** Why cut k cannot be used, or undefined when it can; always undefined for the ends k = 0 and k = n. */
  reason(k: number): string | undefined;
}

/**
 * Which cuts of a model can be used (the `usable` / `reason` of {@link cutPoints}). The ends are always usable:
 * k = 0 runs the whole model on the CPU side and k = n on the Edge TPU side, nothing is split. A cut between
 * them cannot be used when the model as a whole cannot be split (several subgraphs, a constant output, data the
 * writer cannot keep), when a variable tensor is used on both sides, or when a tensor that cannot travel between
 * interpreters would cross. Internal: one rule for {@link cutPoints} and the splitter.
 */
export function cutUsability(model: TfliteModel, s: Schedule = scheduleOf(model)): CutUsability {
  const whole = modelSplitBlocker(model, s);
  const blockers = whole === undefined ? cutBlockers(model, s) : [];
  return {
    whole,
    reason: (k) =>
      k === 0 || k === s.n ? undefined : (whole ?? blockers.find((b) => b.from <= k && k <= b.to)?.reason),
  };
}

/**
 * Every cut point k = 0..n of subgraph 0 with its boundary, boundary bytes, prefix/suffix MACs and weight
 * bytes, and whether the prefix is fully Edge-TPU-mappable. Linear in ops + tensors + total boundary size.
 */
export function cutPoints(model: TfliteModel): CutPoint[] {
  const s = scheduleOf(model);
  const analysis = analyzeModel(model);
  const n = s.n;
  const graph = model.subgraphs[0]!;

  const boundaries: BoundaryTensor[][] = Array.from({ length: n + 1 }, () => []);
  for (let t = 0; t < graph.tensors.length; t++) {
    const live = liveInterval(s, t);
    if (live === undefined) continue;
    for (let k = live[0]; k <= live[1]; k++) boundaries[k]!.push(makeBoundaryTensor(model, s, t, k));
  }

  // Constant buffers: a prefix [0,k) reads b iff its first reader is < k; a suffix iff its last reader is >= k.
  const firstReader = new Map<number, number>();
  const lastReader = new Map<number, number>();
  buffersPerPosition(model, s).forEach((buffers, p) => {
    for (const b of buffers) {
      if (!firstReader.has(b)) firstReader.set(b, p);
      lastReader.set(b, p);
    }
  });
  const startsAt = new Float64Array(n + 1);
  const endsAt = new Float64Array(n + 1);
  for (const [b, p] of firstReader) startsAt[p]! += bufferBytes(model, b);
  for (const [b, p] of lastReader) endsAt[p]! += bufferBytes(model, b);
  const prefixWeight = new Float64Array(n + 1);
  const suffixWeight = new Float64Array(n + 1);
  const prefixMacs = new Float64Array(n + 1);
  for (let k = 1; k <= n; k++) {
    prefixWeight[k] = prefixWeight[k - 1]! + startsAt[k - 1]!;
    prefixMacs[k] = prefixMacs[k - 1]! + analysis.ops[k - 1]!.macs;
  }
  for (let k = n - 1; k >= 0; k--) suffixWeight[k] = suffixWeight[k + 1]! + endsAt[k]!;

  const usability = cutUsability(model, s);
  const cuts: CutPoint[] = [];
  for (let k = 0; k <= n; k++) {
    const boundary = boundaries[k]!;
    let bytes = 0;
    let transferBytes = 0;
    for (const b of boundary) {
      bytes += b.bytes;
      if (b.source === 'head') transferBytes += b.bytes;
    }
    const reason = usability.reason(k);
    cuts.push({
      k,
      boundary,
      bytes,
      transferBytes,
      prefixMacs: prefixMacs[k]!,
      suffixMacs: analysis.totals.macs - prefixMacs[k]!,
      prefixWeightBytes: prefixWeight[k]!,
      suffixWeightBytes: suffixWeight[k]!,
      edgetpuMappable: k <= analysis.edgetpuPrefix.length,
      usable: reason === undefined,
      ...(reason === undefined ? {} : { reason }),
    });
  }
  return cuts;
}

/** Options of {@link rankCuts}. */
export interface RankCutsOptions {
  /** Keep at most this many cuts (default: all). */
  limit?: number;
  /** Only cuts whose prefix is fully Edge-TPU-mappable (default false). */
  mappableOnly?: boolean;
  /** Include k = 0 and k = n, where one side is empty (default false). */
  includeEnds?: boolean;
  /** Drop cuts with more boundary tensors than this. */
  maxTensors?: number;
}

/**
 * Ranks cuts from cheapest to dearest to make: fewest boundary tensors, then fewest bytes leaving the prefix,
 * then fewest boundary bytes, then smaller k. Unusable cuts (`usable: false`) are always left out. The input is
 * not modified.
 */
export function rankCuts(cuts: readonly CutPoint[], options: RankCutsOptions = {}): CutPoint[] {
  const n = cuts.length - 1;
  const kept = cuts.filter(
    (c) =>
      c.usable !== false &&
      (options.includeEnds === true || (c.k > 0 && c.k < n)) &&
      (options.mappableOnly !== true || c.edgetpuMappable) &&
      (options.maxTensors === undefined || c.boundary.length <= options.maxTensors),
  );
  kept.sort(
    (a, b) =>
      a.boundary.length - b.boundary.length ||
      a.transferBytes - b.transferBytes ||
      a.bytes - b.bytes ||
      a.k - b.k,
  );
  return options.limit === undefined ? kept : kept.slice(0, Math.max(0, options.limit));
}
