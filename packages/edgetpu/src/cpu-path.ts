/**
 * The CPU path of `createInterpreter`: which bytes TFLite gets (the model as given, or its int8 rewrite for
 * XNNPACK), and the one-sentence notes that say what happened. Internal to the package.
 *
 * Why a rewrite at all: the XNNPACK inside this TFLite 2.9 build refuses every uint8 (QU8) node it claims, and
 * TFLite 2.9's C API then returns no interpreter at all. Rewriting uint8 compute to int8 (lossless for
 * activations, within one weight LSB for the few requantized weight channels) lets XNNPACK's signed path run
 * Coral's classic uint8 models at int8 speed. Evidence and figures: docs/native.md.
 */
import {
  type Int8RewriteReport,
  planInt8Rewrite,
  readModel,
  rewriteToInt8,
  type TfliteModel,
  writeModel,
} from '@swapless/tflite';
import type { Int8Summary, Uint8Policy } from './interpreter.js';

/** Bytes to create an interpreter from, with what was done to them. */
export interface CpuVariant {
  readonly bytes: Uint8Array;
  /** Present when these are the int8 rewrite of the model. */
  readonly int8?: Int8Summary;
  /** A note decided before creation (a fallback's reason). */
  readonly note?: string;
}

/** What to try, in order, for one model. */
export interface CpuPlan {
  /** The model as given (what the reference-kernel fallback runs). */
  readonly original: Uint8Array;
  /** The bytes to try first. */
  first(): CpuVariant;
  /**
   * After XNNPACK refused the first bytes: the int8 rewrite, when it was not tried yet and the model has uint8
   * compute (a model created with `verify: false` is parsed only now). Undefined when there is nothing else.
   */
  afterFailure(): CpuVariant | undefined;
  /** Why the int8 rewrite could not be made, when it was wanted. */
  readonly rewriteError: string | undefined;
  /** True when the model has uint8 compute that XNNPACK refuses and the policy kept it as it is. */
  readonly keptUint8: boolean;
}

function summary(report: Int8RewriteReport): Int8Summary {
  return {
    opsRewritten: report.opsRewritten,
    conversions: report.conversions,
    keptUint8: report.kept.length,
    weightTensors: report.weightTensors,
    requantizedWeightTensors: report.requantizedWeightTensors,
    channels: report.channels,
    requantizedChannels: report.requantizedChannels,
    maxWeightErrorLsb: report.maxWeightErrorLsb,
  };
}

/**
 * What the int8 rewrite makes of one model, computed once per model: `prepareModel` keeps it so that every
 * interpreter created from the prepared model (in any thread) reuses it instead of rewriting again.
 */
export interface Int8Outcome {
  /** True when the model has uint8 compute that XNNPACK refuses. */
  readonly uint8Compute: boolean;
  /** The int8 rewrite, when the model has such compute and the rewrite could be made. */
  readonly int8: { readonly bytes: Uint8Array; readonly summary: Int8Summary } | null;
  /** Why the rewrite could not be made, when it was attempted and failed. */
  readonly rewriteError: string | null;
}

/**
 * Rewrites a parsed model's uint8 compute to int8 and writes it; `verify` re-reads the written bytes with full
 * verification, so that a model verified before the rewrite is still verified when TFLite sees its rewrite.
 */
export function int8Outcome(model: TfliteModel, verify: boolean): Int8Outcome {
  if (planInt8Rewrite(model).xnnpackRefused === 0)
    return { uint8Compute: false, int8: null, rewriteError: null };
  try {
    const result = rewriteToInt8(model);
    const bytes = writeModel(result.model);
    if (verify) readModel(bytes);
    return { uint8Compute: true, int8: { bytes, summary: summary(result.report) }, rewriteError: null };
  } catch (error) {
    // The writer refuses models it cannot write faithfully (sparse tensors, unknown options…), or the rewrite did
    // not pass verification: run the model as given.
    return { uint8Compute: true, int8: null, rewriteError: (error as Error).message };
  }
}

/**
 * Plans the CPU bytes of a model. `known` is what the caller already has: the verified model (parsed once), or
 * the int8 outcome of a prepared model (rewritten once); undefined for a model nobody parsed (`verify: false`).
 */
export function cpuPlan(
  bytes: Uint8Array,
  known: { parsed: TfliteModel } | { outcome: Int8Outcome } | undefined,
  options: { xnnpack: boolean; uint8: Uint8Policy },
): CpuPlan {
  const original: CpuVariant = { bytes };
  let rewriteError: string | undefined;
  let keptUint8 = false;
  let tried = false;
  /** The int8 variant of the model, or undefined when it has no uint8 compute XNNPACK refuses (or no rewrite). */
  const rewrite = (source: { parsed: TfliteModel; verify: boolean } | { outcome: Int8Outcome }) => {
    tried = true;
    const uint8Compute =
      'outcome' in source ? source.outcome.uint8Compute : planInt8Rewrite(source.parsed).xnnpackRefused > 0;
    if (!uint8Compute) return undefined;
    if (options.uint8 === 'as-is') {
      keptUint8 = true;
      return undefined;
    }
    const o = 'outcome' in source ? source.outcome : int8Outcome(source.parsed, source.verify);
    if (o.int8 === null) {
      rewriteError = o.rewriteError ?? undefined;
      return undefined;
    }
    return { bytes: o.int8.bytes, int8: o.int8.summary } satisfies CpuVariant;
  };
  const wanted = options.xnnpack;
  let planned: CpuVariant | undefined;
  if (wanted && known !== undefined) {
    planned = rewrite('outcome' in known ? known : { parsed: known.parsed, verify: true });
  }
  return {
    original: bytes,
    first: () => planned ?? original,
    afterFailure: () => {
      if (!wanted || tried) return undefined;
      let model: TfliteModel;
      try {
        model = readModel(bytes);
      } catch {
        tried = true;
        return undefined;
      }
      return rewrite({ parsed: model, verify: false });
    },
    get rewriteError() {
      return rewriteError;
    },
    get keptUint8() {
      return keptUint8;
    },
  };
}

/** TFLite's delegate messages in one clause: which nodes failed, else the first messages as they are. */
export function condenseReports(reports: readonly string[]): string {
  const failed = new Map<string, string[]>();
  const other: string[] = [];
  for (const report of reports) {
    const match = /failed to delegate (.+?) node #(\d+)/.exec(report);
    if (match !== null) {
      const nodes = failed.get(match[1]!) ?? [];
      nodes.push(`#${match[2]}`);
      failed.set(match[1]!, nodes);
    } else if (!/Restored original execution plan/.test(report)) {
      other.push(report.trim().replace(/\.+$/, ''));
    }
  }
  const parts = [...failed].map(
    ([op, nodes]) => `failed to delegate ${op} node${nodes.length === 1 ? '' : 's'} ${nodes.join(', ')}`,
  );
  const clause = (parts.length > 0 ? parts : other.slice(0, 2)).join('; ');
  return clause === '' ? 'no reason given' : clause;
}

/** The note of an interpreter that fell back to TFLite's reference kernels because XNNPACK could not prepare. */
export function fallbackNote(reports: readonly string[], tried: CpuVariant, plan: CpuPlan): string {
  const why = condenseReports(reports);
  if (tried.int8 !== undefined) {
    return `XNNPACK could not prepare the model even with its uint8 ops rewritten as int8 (${why}), so TFLite's reference kernels run the original`;
  }
  if (plan.rewriteError !== undefined) {
    return `XNNPACK could not prepare the model (${why}) and its uint8 ops could not be rewritten as int8 (${plan.rewriteError}), so TFLite's reference kernels run it`;
  }
  const hint = plan.keptUint8 ? "; uint8: 'int8' (the default) would rewrite its uint8 ops for XNNPACK" : '';
  return `XNNPACK could not prepare the model (${why}), so TFLite's reference kernels run it${hint}`;
}

/** The note of an interpreter running the int8 rewrite of a uint8 model on XNNPACK. */
export function rewriteNote(s: Int8Summary): string {
  const lsb = s.maxWeightErrorLsb.toFixed(2);
  return (
    `uint8 ops run as int8 on XNNPACK: ${s.opsRewritten} ops rewritten, ${s.requantizedChannels} of ${s.channels} ` +
    `weight channels requantized (largest weight change ${lsb} LSB)`
  );
}
