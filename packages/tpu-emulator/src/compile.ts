/**
 * The emulated Edge TPU compiler report: which ops map, which layers' parameters are cached on chip and which
 * are streamed from host memory on every inference, for one segment or a co-compiled set. Model and rules:
 * docs/tpu-emulator.md ("Compile report").
 */
import { expected, InvalidArgumentError } from '@swapless/core';
import { analyzeModel, boundaryAt, type TfliteModel, tensorBytes } from '@swapless/tflite';
import { resolveProfile } from './profiles.js';
import type {
  CompileReport,
  DeviceProfile,
  LayerReport,
  ModelCompileReport,
  ParameterPlacement,
  ProfileInput,
} from './types.js';

/** 2^20: the compiler prints MiB, and SRAM sizes are binary. */
export const MIB = 1024 * 1024;

/** Options of {@link compileReport}. */
export interface CompileOptions {
  /**
   * Caching token to give the unit. By default a deterministic fingerprint of the set (structure, parameter
   * sizes and sampled parameter bytes), so recompiling the same models gives the same token — as running the
   * same compiled file does on a real device — and different models practically never share one.
   */
  cachingToken?: string;
}

/** Per-model facts gathered before the set's budget is known. */
/** What the compile report needs of one segment, from the file alone (no placement decided yet). */
export interface SegmentFacts {
  name: string;
  opCount: number;
  mapped: number;
  firstUnmapped?: { position: number; type: string; reason: string };
  layers: Omit<LayerReport, 'placement'>[];
  inputBytes: number;
  outputBytes: number;
  largestActivationBytes: number;
  /** Σ MACs of the mapped layers. */
  macs: number;
  /** Analysis of the whole segment (for callers that need per-op details beyond the layers). */
  analysis: ReturnType<typeof analyzeModel>;
}

/** True when the tensor's buffer carries data (a weight, bias or other constant). */
function isConstantTensor(model: TfliteModel, tensor: { buffer: number }): boolean {
  if (tensor.buffer === 0) return false;
  const b = model.buffers[tensor.buffer];
  return b !== undefined && ((b.data?.length ?? 0) > 0 || (b.size ?? 0) > 0);
}

function isModel(value: unknown): value is TfliteModel {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as TfliteModel).subgraphs) &&
    Array.isArray((value as TfliteModel).buffers)
  );
}

/**
 * The mapped layers of a segment with their MACs and bytes, the bytes entering and leaving its Edge TPU part,
 * and the largest activation. `mapped` defaults to the Edge-TPU-mappable prefix; the compiler wrapper passes the
 * number of ops the real compiler mapped.
 */
export function segmentFacts(model: TfliteModel, mapped?: number): SegmentFacts {
  const analysis = analyzeModel(model);
  const graph = model.subgraphs[0]!;
  mapped = Math.min(mapped ?? analysis.edgetpuPrefix.length, analysis.n);
  const layers: Omit<LayerReport, 'placement'>[] = [];
  const graphInputs = new Set(graph.inputs);
  const inputsRead = new Set<number>();
  let largestActivationBytes = 0;
  let macs = 0;
  const activationBytes = (t: number): number => {
    if (t < 0) return 0;
    const tensor = graph.tensors[t]!;
    return isConstantTensor(model, tensor) ? 0 : tensorBytes(tensor);
  };
  for (let p = 0; p < mapped; p++) {
    const op = analysis.ops[p]!;
    macs += op.macs;
    const shape = op.outputs[0] === undefined ? undefined : graph.tensors[op.outputs[0]]?.shape;
    const channels = shape && shape.length > 0 ? shape[shape.length - 1]! : 0;
    const elements = shape ? shape.reduce((a, d) => a * d, 1) : 0;
    layers.push({
      position: p,
      type: op.type,
      macs: op.macs,
      weightBytes: op.weightBytes,
      inputBytes: op.inputBytes,
      outputBytes: op.outputBytes,
      ...(channels > 0 ? { outputChannels: channels, outputPositions: elements / channels } : {}),
    });
    for (const t of [...op.inputs, ...op.outputs]) {
      largestActivationBytes = Math.max(largestActivationBytes, activationBytes(t));
    }
    for (const t of op.inputs) if (graphInputs.has(t)) inputsRead.add(t);
  }
  let inputBytes = 0;
  let outputBytes = 0;
  if (mapped > 0) {
    for (const t of inputsRead) {
      inputBytes += tensorBytes(graph.tensors[t]!);
    }
    // What leaves the Edge TPU part: the boundary tensors it produces (model outputs included).
    for (const b of boundaryAt(model, mapped)) if (b.source === 'head') outputBytes += b.bytes;
  }
  const facts: SegmentFacts = {
    name: model.description ?? graph.name ?? '',
    opCount: analysis.n,
    mapped,
    layers,
    inputBytes,
    outputBytes,
    largestActivationBytes,
    macs,
    analysis,
  };
  if (mapped < analysis.n) {
    const op = analysis.ops[mapped]!;
    facts.firstUnmapped = { position: mapped, type: op.type, reason: op.edgetpu.reason ?? 'cannot map' };
  }
  return facts;
}

/** FNV-1a over 32-bit words, two lanes with different offsets: a 64-bit fingerprint as 16 hex digits. */
class Fingerprint {
  #a = 0x811c9dc5;
  #b = 0x01000193 ^ 0x9e3779b9;

  add(value: number): void {
    const v = value >>> 0;
    this.#a = Math.imul(this.#a ^ v, 0x01000193) >>> 0;
    this.#b = Math.imul(this.#b ^ ((v << 13) | (v >>> 19)), 0x01000193) >>> 0;
  }

  addString(s: string): void {
    this.add(s.length);
    for (let i = 0; i < s.length; i++) this.add(s.charCodeAt(i));
  }

  hex(): string {
    return this.#a.toString(16).padStart(8, '0') + this.#b.toString(16).padStart(8, '0');
  }
}

/** Stride of the parameter-byte sample: enough to tell seeds and models apart without hashing 40 MB. */
const SAMPLE_STRIDE = 257;

function fingerprint(models: readonly TfliteModel[], facts: readonly SegmentFacts[]): string {
  const fp = new Fingerprint();
  fp.add(models.length);
  models.forEach((model, i) => {
    const f = facts[i]!;
    fp.add(f.opCount);
    fp.add(f.mapped);
    for (const l of f.layers) {
      fp.addString(l.type);
      fp.add(l.weightBytes);
      fp.add(l.outputBytes);
    }
    for (const buffer of model.buffers) {
      const data = buffer.data;
      if (data === undefined || data.length === 0) continue;
      fp.add(data.length);
      for (let j = 0; j < data.length; j += SAMPLE_STRIDE) fp.add(data[j]!);
    }
  });
  return `emu-${fp.hex()}`;
}

/**
 * SRAM the compiler reserves for activations before caching parameters, bytes: a fraction (the resident
 * share of a tiled layer) of the largest activation tensor of any model in the set — one model runs at a
 * time, so the set shares the region — capped so that some SRAM is always left for parameters.
 */
export function activationReserveBytes(largestActivationBytes: number, profile: ProfileInput): number {
  const p = resolveProfile(profile);
  return Math.min(p.maxActivationReserveMiB * MIB, p.activationReserveFactor * largestActivationBytes);
}

/**
 * Compiles (in emulation) one segment or a co-compiled set and reports, like `edgetpu_compiler`, the on-chip
 * bytes used for caching parameters, the bytes remaining and the off-chip bytes streamed per inference, per
 * model and in total, with the mapped/unmapped op counts.
 *
 * Rules (docs/tpu-emulator.md): the Edge TPU part of each model is its Edge-TPU-mappable prefix
 * (`analyzeModel(model).edgetpuPrefix`); parameters are placed one whole layer at a time, in graph order and,
 * for a set, in argument order across models; the first layer that does not fit in the remaining budget and
 * every layer after it (in this model and the later ones) are streamed — a later, smaller layer does not
 * fill the gap, as the real compiler caches in order.
 *
 * @param segment A model, or the models of a co-compiled set in argument order (at least one).
 * @param profile A built-in profile name or a profile object (the budget depends on its SRAM constants).
 * @throws InvalidArgumentError (`SWAPLESS_INVALID_ARGUMENT`) for an empty set or a value that is not a model.
 */
export function compileReport(
  segment: TfliteModel | readonly TfliteModel[],
  profile: ProfileInput,
  options: CompileOptions = {},
): CompileReport {
  const p = resolveProfile(profile);
  const models: readonly TfliteModel[] = Array.isArray(segment) ? segment : [segment as TfliteModel];
  if (models.length === 0) {
    throw new InvalidArgumentError(expected('at least one model', 'a compiled unit', models));
  }
  models.forEach((m, i) => {
    if (!isModel(m)) throw new InvalidArgumentError(expected('a TfliteModel', `model ${i} of the unit`, m));
  });
  if (
    options.cachingToken !== undefined &&
    (typeof options.cachingToken !== 'string' || !options.cachingToken)
  ) {
    throw new InvalidArgumentError(expected('a non-empty string', 'the caching token', options.cachingToken));
  }

  const facts = models.map((m) => segmentFacts(m));
  return placeUnit(facts, p, options.cachingToken ?? fingerprint(models, facts));
}

/** What the placement needs of one model of a unit: its mapped layers and sizes (facts or an earlier report). */
type PlacementInput = Omit<
  ModelCompileReport,
  | 'index'
  | 'onChipCachedBytes'
  | 'onChipRemainingBytes'
  | 'offChipStreamedBytes'
  | 'parameterBytes'
  | 'macs'
  | 'layers'
  | 'mappedOps'
  | 'unmappedOps'
> & { mapped: number; layers: readonly Omit<LayerReport, 'placement'>[] };

/** The unit's report: the parameter budget after the activation reserve, then in-order placement across models. */
function placeUnit(facts: readonly PlacementInput[], p: DeviceProfile, cachingToken: string): CompileReport {
  const largest = Math.max(0, ...facts.map((f) => f.largestActivationBytes));
  const activation = activationReserveBytes(largest, p);
  const budget = Math.max(0, Math.floor(p.sramMiB * MIB - p.fixedReserveMiB * MIB - activation));

  let used = 0;
  let full = false;
  let totalStreamed = 0;
  const reports: ModelCompileReport[] = facts.map((f, index) => {
    let cached = 0;
    let streamed = 0;
    let macs = 0;
    const layers: LayerReport[] = f.layers.map((l) => {
      macs += l.macs;
      let placement: ParameterPlacement = 'none';
      if (l.weightBytes > 0) {
        if (!full && used + l.weightBytes <= budget) {
          placement = 'cached';
          used += l.weightBytes;
          cached += l.weightBytes;
        } else {
          // In-order caching: once a layer does not fit, it and everything after it stream.
          full = true;
          placement = 'streamed';
          streamed += l.weightBytes;
        }
      }
      return { ...l, placement };
    });
    totalStreamed += streamed;
    const report: ModelCompileReport = {
      index,
      name: f.name,
      opCount: f.opCount,
      mappedOps: f.mapped,
      unmappedOps: f.opCount - f.mapped,
      ...(f.firstUnmapped === undefined ? {} : { firstUnmapped: f.firstUnmapped }),
      onChipCachedBytes: cached,
      onChipRemainingBytes: budget - used,
      offChipStreamedBytes: streamed,
      parameterBytes: cached + streamed,
      macs,
      inputBytes: f.inputBytes,
      outputBytes: f.outputBytes,
      largestActivationBytes: f.largestActivationBytes,
      layers,
    };
    return report;
  });

  return {
    source: 'emulated',
    reportVersion: 1,
    profile: p.name,
    cachingToken,
    activationReserveBytes: Math.round(activation),
    parameterBudgetBytes: budget,
    onChipCachedBytes: used,
    onChipRemainingBytes: budget - used,
    offChipStreamedBytes: totalStreamed,
    mappedOps: reports.reduce((a, r) => a + r.mappedOps, 0),
    unmappedOps: reports.reduce((a, r) => a + r.unmappedOps, 0),
    models: reports,
  };
}

/**
 * The report of a co-compiled set made from the reports of its members compiled alone (each a one-model unit for
 * the same profile), in compile order: the same budget and in-order placement as {@link compileReport} of the
 * members' models together, without the models (the layers' sizes are in the reports). What the controller's
 * search asks many times per decision. The caching token is derived from the members' tokens and their order,
 * unless `options.cachingToken` is given.
 *
 * @throws InvalidArgumentError for an empty set, a report that is not a one-model emulated unit, or members
 *   reported for another profile.
 */
export function coCompileReports(
  members: readonly CompileReport[],
  profile: ProfileInput,
  options: CompileOptions = {},
): CompileReport {
  const p = resolveProfile(profile);
  if (!Array.isArray(members) || members.length === 0) {
    throw new InvalidArgumentError(expected('at least one member report', 'a co-compiled set', members));
  }
  const inputs = members.map((r, i): PlacementInput => {
    if (typeof r !== 'object' || r === null || r.source !== 'emulated' || r.models?.length !== 1) {
      throw new InvalidArgumentError(
        expected('the emulated report of one segment (one model)', `member ${i} of a co-compiled set`, r),
      );
    }
    if (r.profile !== p.name) {
      throw new InvalidArgumentError(
        expected(`a report for profile "${p.name}"`, `member ${i} of a co-compiled set`, r.profile),
      );
    }
    const m = r.models[0]!;
    return { ...m, mapped: m.mappedOps };
  });
  const fp = new Fingerprint();
  for (const r of members) fp.addString(r.cachingToken);
  return placeUnit(inputs, p, options.cachingToken ?? `emu-set-${fp.hex()}`);
}
