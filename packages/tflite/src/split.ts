/**
 * Splits subgraph 0 at a cut k into two self-contained models: the head (ops [0,k), Edge TPU side) and the
 * tail (ops [k,n), CPU side). Contract and rationale: docs/splitting.md.
 */
import { expected, InvalidCutError, UnsupportedModelError } from '@swapless/core';
import { collectAttached, scheduleOf } from './analysis.js';
import { type BoundaryTensor, boundaryAt, checkCut, cutUsability } from './cuts.js';
import type {
  Metadata,
  ModelBuffer,
  Operator,
  SignatureDef,
  Tensor,
  TensorMap,
  TfliteModel,
} from './model.js';
import { readModel } from './reader.js';
import { writeModel } from './writer.js';

/**
 * Metadata entries the parts keep (with their buffers), because each is as true of a part as of the whole:
 * `min_runtime_version` (a part needs no newer runtime than the whole), `reduced_precision_support` (the ops'
 * tolerance of reduced-precision arithmetic, a property of every op), `CONVERSION_METADATA` (how the file was
 * converted). Every other entry is dropped: `TFLITE_METADATA` (the model card) describes the whole model's inputs
 * and outputs, which a part does not have, and unknown entries may do the same.
 */
const KEPT_METADATA: ReadonlySet<string> = new Set([
  'min_runtime_version',
  'reduced_precision_support',
  'CONVERSION_METADATA',
]);

/** A boundary tensor and where it sits in the parts. */
export interface SplitBoundaryTensor extends BoundaryTensor {
  /** Index in the head's outputs (source `head`), else undefined. */
  headOutput?: number;
  /** Index in the tail's inputs (when `toTail`), else undefined. */
  tailInput?: number;
}

/** Where one of the original model's outputs comes from after the split. */
export interface SplitOutput {
  /** `head` / `tail`: an output of that part; `input`: the model passes one of its inputs straight through. */
  part: 'head' | 'tail' | 'input';
  /** Output index in that part, or the index in the original inputs for `input`. */
  index: number;
  /** Tensor name (same in the original model and in the part). */
  name: string;
}

/** How the parts connect: the boundary (ascending original tensor index) and the original outputs' sources. */
export interface SplitBoundary {
  k: number;
  /** Number of compute ops (cut points are 0..n). */
  n: number;
  tensors: SplitBoundaryTensor[];
  /** Per original model output, in original order. */
  outputs: SplitOutput[];
  /**
   * Per tail input (in tail input order): where its value comes from — an output index of the head, or an
   * index of the original model inputs.
   */
  tailInputs: { from: 'head' | 'input'; index: number; name: string }[];
  /** Per head input (in head input order): its index in the original model inputs. */
  headInputs: number[];
}

/** The two parts of a split; a side with no ops is null (k = 0: no head, k = n: no tail). */
export interface SplitResult {
  head: TfliteModel | null;
  tail: TfliteModel | null;
  boundary: SplitBoundary;
}

/** The serialized parts returned by {@link splitBytes}. */
export interface SplitBytesResult {
  head: Uint8Array | null;
  tail: Uint8Array | null;
  boundary: SplitBoundary;
}

/** Builds a self-contained model from a set of ops of subgraph 0 with the given inputs and outputs. */
function extractPart(model: TfliteModel, ops: number[], inputs: number[], outputs: number[]): TfliteModel {
  const graph = model.subgraphs[0]!;
  const used = new Set<number>();
  for (const o of ops) {
    const op = graph.operators[o]!;
    for (const t of op.inputs) if (t >= 0) used.add(t);
    for (const t of op.outputs) if (t >= 0) used.add(t);
    for (const t of op.intermediates ?? []) if (t >= 0) used.add(t);
  }
  for (const t of inputs) used.add(t);
  for (const t of outputs) used.add(t);
  const order = [...used].sort((a, b) => a - b);
  const tensorMap = new Map<number, number>();
  order.forEach((t, i) => {
    tensorMap.set(t, i);
  });

  const buffers: ModelBuffer[] = [{}];
  const bufferMap = new Map<number, number>();
  const mapBuffer = (b: number): number => {
    const source = model.buffers[b];
    const hasData = source !== undefined && ((source.data?.length ?? 0) > 0 || (source.size ?? 0) > 0);
    if (b === 0 || !hasData) return 0;
    let mapped = bufferMap.get(b);
    if (mapped === undefined) {
      mapped = buffers.length;
      buffers.push(source);
      bufferMap.set(b, mapped);
    }
    return mapped;
  };
  const tensors: Tensor[] = order.map((t) => {
    const tensor = graph.tensors[t]!;
    return { ...tensor, buffer: mapBuffer(tensor.buffer) };
  });

  const opcodeOrder = [...new Set(ops.map((o) => graph.operators[o]!.opcodeIndex))].sort((a, b) => a - b);
  const opcodeMap = new Map<number, number>();
  opcodeOrder.forEach((c, i) => {
    opcodeMap.set(c, i);
  });
  const remap = (t: number): number => (t < 0 ? t : tensorMap.get(t)!);
  const operators: Operator[] = ops.map((o) => {
    const op = graph.operators[o]!;
    const copy: Operator = {
      ...op,
      opcodeIndex: opcodeMap.get(op.opcodeIndex)!,
      inputs: op.inputs.map(remap),
      outputs: op.outputs.map(remap),
    };
    if (op.intermediates !== undefined) copy.intermediates = op.intermediates.map(remap);
    return copy;
  });

  const part: TfliteModel = {
    version: model.version,
    operatorCodes: opcodeOrder.map((c) => ({ ...model.operatorCodes[c]! })),
    subgraphs: [
      {
        tensors,
        inputs: inputs.map(remap),
        outputs: outputs.map(remap),
        operators,
        ...(graph.name === undefined ? {} : { name: graph.name }),
        // The writer refuses anything the reader could not represent: never launder that flag away.
        ...(graph.unsupported === undefined ? {} : { unsupported: [...graph.unsupported] }),
      },
    ],
    buffers,
  };
  if (model.description !== undefined) part.description = model.description;
  if (model.unsupported !== undefined) part.unsupported = [...model.unsupported];
  const signatureDefs = partSignatures(model, inputs, outputs, remap);
  if (signatureDefs !== undefined) part.signatureDefs = signatureDefs;
  const metadata: Metadata[] = [];
  for (const entry of model.metadata ?? []) {
    if (entry.name === undefined || !KEPT_METADATA.has(entry.name)) continue;
    const source = model.buffers[entry.buffer];
    if (source === undefined) continue;
    metadata.push({ name: entry.name, buffer: buffers.length });
    buffers.push(source);
  }
  if (metadata.length > 0) part.metadata = metadata;
  return part;
}

/**
 * The signature defs of a part: one per signature of the original (all name subgraph 0, the only one), with the
 * same key and tag and the part's own inputs and outputs in part order. A tensor keeps the name the original
 * signature gave it (as an input or an output); any other tensor — a boundary tensor — is named by its tensor
 * name (`tensor_<index>` when it has none), made unique within the list by appending `_<original tensor index>`.
 * Undefined when the original has no signature defs.
 */
function partSignatures(
  model: TfliteModel,
  inputs: number[],
  outputs: number[],
  remap: (t: number) => number,
): SignatureDef[] | undefined {
  if (model.signatureDefs === undefined) return undefined;
  const graph = model.subgraphs[0]!;
  return model.signatureDefs.map((sig) => {
    const known = new Map<number, string>();
    for (const m of [...sig.outputs, ...sig.inputs])
      if (m.name !== undefined) known.set(m.tensorIndex, m.name);
    const maps = (list: number[]): TensorMap[] => {
      const taken = new Set<string>();
      return list.map((t) => {
        let name = known.get(t) ?? (graph.tensors[t]!.name || `tensor_${t}`);
        if (taken.has(name)) name = `${name}_${t}`;
        taken.add(name);
        return { name, tensorIndex: remap(t) };
      });
    };
    const def: SignatureDef = { inputs: maps(inputs), outputs: maps(outputs), subgraphIndex: 0 };
    if (sig.signatureKey !== undefined) def.signatureKey = sig.signatureKey;
    if (sig.deprecatedTag !== undefined) def.deprecatedTag = sig.deprecatedTag;
    return def;
  });
}

/** Original op indices of the compute ops at positions [from, to) plus every constant-only op they need. */
function opsOf(model: TfliteModel, from: number, to: number): number[] {
  const s = scheduleOf(model);
  const set = new Set<number>();
  for (let p = from; p < to; p++) {
    const o = s.computeOps[p]!;
    set.add(o);
    for (const a of collectAttached(model, s, o)) set.add(a);
  }
  // The original order is a valid execution order, and so is any subsequence of it.
  return [...set].sort((a, b) => a - b);
}

/** `0–3, 5, 7–9`: a sorted list of cut points as ranges, for messages. */
function ranges(ks: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ks.length; ) {
    let j = i;
    while (j + 1 < ks.length && ks[j + 1] === ks[j]! + 1) j++;
    out.push(i === j ? `${ks[i]}` : `${ks[i]}–${ks[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}

/**
 * The split at an end, k = 0 or k = n: nothing is split, the model itself is the one side (the same object, so a
 * caller holding its bytes serves those, exactly as given) and its inputs and outputs are the model's, in order.
 */
function endSplit(model: TfliteModel, k: number, n: number): SplitResult {
  const graph = model.subgraphs[0]!;
  const side = k === 0 ? 'tail' : 'head';
  const tensors = boundaryAt(model, k) as SplitBoundaryTensor[];
  for (const b of tensors) {
    if (side === 'tail' && b.toTail) b.tailInput = graph.inputs.indexOf(b.tensor);
    if (side === 'head' && b.source === 'head') b.headOutput = graph.outputs.indexOf(b.tensor);
  }
  const name = (t: number) => graph.tensors[t]!.name;
  return {
    head: side === 'head' ? model : null,
    tail: side === 'tail' ? model : null,
    boundary: {
      k,
      n,
      tensors,
      outputs: graph.outputs.map((t, index) => ({ part: side, index, name: name(t) })),
      tailInputs:
        side === 'tail'
          ? graph.inputs.map((t, index) => ({ from: 'input' as const, index, name: name(t) }))
          : [],
      headInputs: side === 'head' ? graph.inputs.map((_, i) => i) : [],
    },
  };
}

/**
 * Splits subgraph 0 at cut k (0..n on the op order of docs/splitting.md): the head runs ops [0,k) and the tail
 * ops [k,n), each with only the tensors, buffers and opcodes it uses, options kept verbatim. Head inputs are
 * the model inputs it consumes, head outputs the boundary tensors it produces (including model outputs it
 * produces); tail inputs are the boundary tensors it consumes (head outputs and model inputs), tail outputs
 * the model outputs it produces. Each part gets the original's signature defs rebuilt for its own inputs and
 * outputs, and the metadata entries that stay true of a part (docs/splitting.md).
 *
 * The ends split nothing, so they work for every model (several subgraphs included): at k = 0 the tail, and at
 * k = n the head, is `model` itself — the same object, never a copy — with the model's own inputs and outputs
 * in order; the other side is null. Serialise such a side by reusing the bytes `model` was read from.
 *
 * @throws InvalidCutError when k is not an integer in 0..n, or when cut k is unusable (a variable tensor used on
 *   both sides, a tensor that cannot travel between models): the message gives the reason and the usable cuts.
 * @throws UnsupportedModelError when no cut between the ends can be used (several subgraphs, a constant output,
 *   data the writer cannot keep), with the reason.
 */
export function splitModel(model: TfliteModel, k: number): SplitResult {
  const s = scheduleOf(model);
  checkCut(k, s.n, `a model of ${s.n} ops`);
  if (k === 0 || k === s.n) return endSplit(model, k, s.n);
  const usability = cutUsability(model, s);
  if (usability.whole !== undefined) {
    throw new UnsupportedModelError(`This model cannot be split: ${usability.whole}`, {
      details: { k, reason: usability.whole },
    });
  }
  const blocker = usability.reason(k);
  if (blocker !== undefined) {
    const usable = Array.from({ length: s.n + 1 }, (_, j) => j).filter(
      (j) => usability.reason(j) === undefined,
    );
    throw new InvalidCutError(
      `${expected('a usable cut point', `a model of ${s.n} ops`, k)}: ${blocker} (usable cuts: ${ranges(usable)})`,
      { details: { k, n: s.n, reason: blocker, usable } },
    );
  }
  const graph = model.subgraphs[0]!;

  const boundary = boundaryAt(model, k) as SplitBoundaryTensor[];
  const headOutputs: number[] = [];
  const tailInputs: number[] = [];
  const tailInputSources: SplitBoundary['tailInputs'] = [];
  for (const b of boundary) {
    if (b.source === 'head') {
      b.headOutput = headOutputs.length;
      headOutputs.push(b.tensor);
    }
    if (b.toTail) {
      b.tailInput = tailInputs.length;
      tailInputs.push(b.tensor);
      tailInputSources.push(
        b.source === 'head'
          ? { from: 'head', index: b.headOutput!, name: b.name }
          : { from: 'input', index: graph.inputs.indexOf(b.tensor), name: b.name },
      );
    }
  }
  const headInputs = graph.inputs.filter((t) => s.firstUse[t]! >= 0 && s.firstUse[t]! < k);
  const tailOutputs = graph.outputs.filter((t) => s.producedAt[t]! >= k);

  const outputs: SplitOutput[] = graph.outputs.map((t) => {
    const name = graph.tensors[t]!.name;
    const produced = s.producedAt[t]!;
    if (produced < 0) return { part: 'input', index: graph.inputs.indexOf(t), name };
    if (produced < k) return { part: 'head', index: headOutputs.indexOf(t), name };
    return { part: 'tail', index: tailOutputs.indexOf(t), name };
  });

  const head = extractPart(model, opsOf(model, 0, k), headInputs, headOutputs);
  const tail = extractPart(model, opsOf(model, k, s.n), tailInputs, tailOutputs);
  return {
    head,
    tail,
    boundary: {
      k,
      n: s.n,
      tensors: boundary,
      outputs,
      tailInputs: tailInputSources,
      headInputs: headInputs.map((t) => graph.inputs.indexOf(t)),
    },
  };
}

/**
 * Runs a split model by its {@link SplitBoundary}: the head on the model inputs it takes, then the tail on its
 * inputs (head outputs or model inputs), and returns the original model's outputs in order. Runtime-agnostic:
 * `runHead` / `runTail` run a part on inputs in part order and return its outputs in part order (they are not
 * called for a missing side, k = 0 or k = n).
 */
export function chainParts<T>(
  boundary: SplitBoundary,
  inputs: readonly T[],
  runHead: (inputs: T[]) => T[],
  runTail: (inputs: T[]) => T[],
): T[] {
  const hasHead = boundary.k > 0;
  const hasTail = boundary.k < boundary.n;
  const head = hasHead ? runHead(boundary.headInputs.map((i) => inputs[i]!)) : [];
  const tail = hasTail
    ? runTail(boundary.tailInputs.map((src) => (src.from === 'head' ? head[src.index]! : inputs[src.index]!)))
    : [];
  return boundary.outputs.map((o) =>
    o.part === 'head' ? head[o.index]! : o.part === 'tail' ? tail[o.index]! : inputs[o.index]!,
  );
}

/**
 * Reads a .tflite file, splits it at cut k ({@link splitModel}) and writes both parts; at an end (k = 0 or
 * k = n) the side that holds the whole model is `bytes` itself, not a rewrite.
 */
export function splitBytes(bytes: Uint8Array, k: number): SplitBytesResult {
  const model = readModel(bytes);
  const { head, tail, boundary } = splitModel(model, k);
  const write = (part: TfliteModel | null) =>
    part === null ? null : part === model ? bytes : writeModel(part);
  return { head: write(head), tail: write(tail), boundary };
}
