/**
 * Model classes: what SwapLess does with a model file, decided once from the file so that `plan`, `bench`,
 * `emulate`, `compile`, the service and the server say the same sentence about it.
 *
 * - `partitioned`: a prefix of the model maps to the Edge TPU; the controller chooses its cut and cores.
 * - `cpu-only`: nothing maps (a float model, or a first op the Edge TPU cannot run): the whole model runs on
 *   the CPU (k = 0, no TPU stage) and shares the cores with the other tenants.
 * - `compiled`: an `*_edgetpu.tflite` made by `edgetpu_compiler`; only a real Edge TPU (libedgetpu) runs it, whole.
 * - `unrunnable`: a custom op that nothing here can run (the TFLite 2.9 resolver does not register it).
 */
import { UnsupportedModelError } from '@swapless/core';
import {
  analyzeModel,
  EDGETPU_CUSTOM_OP,
  emptyPrefixSentence,
  type ModelAnalysis,
  runnability,
  type TfliteModel,
} from '@swapless/tflite';

/**
 * The kind of tenant a model makes (see the module comment). Not to be confused with `@swapless/tflite`'s
 * `ModelClass` (`quantized` / `float` / `compiled`: what the file holds, which `swapless inspect` prints): a
 * tenant class says what SwapLess does with the model.
 */
export type TenantClassKind = 'partitioned' | 'cpu-only' | 'compiled' | 'unrunnable';

/** What {@link classifyModel} found: the tenant class of a model (`TenantStatus.modelClass` in the service). */
export interface TenantClass {
  kind: TenantClassKind;
  /** Compute ops (cut points are 0..n). */
  n: number;
  /** End of the Edge-TPU-mappable prefix (0 for `cpu-only` and `compiled`). */
  edgetpuPrefix: number;
  /**
   * Why nothing maps to the Edge TPU when the prefix is empty (`float model: nothing maps to the Edge TPU`, or
   * `nothing of this model maps to the Edge TPU (op 0 is CAST)`); null when a prefix maps or the model is compiled.
   */
  unmappable: string | null;
  /**
   * One user sentence saying why the model is not `partitioned`, e.g. `float model: nothing maps to the Edge
   * TPU`, `nothing of this model maps to the Edge TPU (op 0 is CAST)`, `cannot run here: custom op X`; null
   * for `partitioned`.
   */
  reason: string | null;
}

/** The sentence that ends every refusal of a compiled model under emulation. */
const GIVE_UNCOMPILED =
  'give the uncompiled quantized model instead (the .tflite that was passed to edgetpu_compiler)';

/** The tenant class of a parsed model (pass its analysis when you have it). Pure: reads the model only. */
export function classifyModel(
  model: TfliteModel,
  analysis: ModelAnalysis = analyzeModel(model),
): TenantClass {
  const n = analysis.n;
  const r = runnability(model);
  if (r.compiled && r.unresolvedCustomOps.length === 0) {
    const count = r.edgetpuOps.length;
    return {
      kind: 'compiled',
      n,
      edgetpuPrefix: 0,
      unmappable: null,
      reason: `compiled for the Edge TPU by edgetpu_compiler (${count} ${EDGETPU_CUSTOM_OP}${count === 1 ? '' : 's'}): only a real Edge TPU runs it, whole`,
    };
  }
  const prefix = analysis.edgetpuPrefix.length;
  const unmappable = emptyPrefixSentence(model, analysis) ?? null;
  if (r.unresolvedCustomOps.length > 0) {
    return {
      kind: 'unrunnable',
      n,
      edgetpuPrefix: prefix,
      unmappable,
      reason: r.reason ?? 'cannot run here',
    };
  }
  if (prefix === 0) return { kind: 'cpu-only', n, edgetpuPrefix: 0, unmappable, reason: unmappable };
  return { kind: 'partitioned', n, edgetpuPrefix: prefix, unmappable: null, reason: null };
}

/** Options of {@link assertServable}. */
export interface ServableOptions {
  /**
   * A real Edge TPU (libedgetpu) runs the Edge TPU stages: a compiled model is served whole. Default false
   * (the emulated Edge TPU, which cannot run a compiled model).
   */
  realEdgeTpu?: boolean;
}

/**
 * Refuses a model SwapLess cannot serve, before anything is profiled or compiled: `UnsupportedModelError`
 * (`SWAPLESS_UNSUPPORTED_MODEL`, HTTP 400) whose message starts with `subject` (e.g. `tenant "seg"`) and then
 * says why — an unresolved custom op, or a compiled model under emulation (with the advice to give the
 * uncompiled quantized model). `details` carry `kind` and `reason`.
 */
export function assertServable(cls: TenantClass, subject: string, options: ServableOptions = {}): void {
  if (cls.kind === 'unrunnable') {
    throw new UnsupportedModelError(`${subject}: ${cls.reason}`, {
      details: { kind: cls.kind, reason: cls.reason },
    });
  }
  if (cls.kind === 'compiled' && options.realEdgeTpu !== true) {
    throw new UnsupportedModelError(
      `${subject}: ${cls.reason}, and the Edge TPU here is emulated: ${GIVE_UNCOMPILED}`,
      { details: { kind: cls.kind, reason: cls.reason } },
    );
  }
}

/**
 * Refuses a model that cannot be split and run on the CPU here (`demo`, and the first step of `emulate` and
 * `compile`): `UnsupportedModelError` starting with `subject` — `cannot run here: custom op X`, or for a compiled
 * model the advice to give its uncompiled source.
 */
export function assertSplittable(cls: TenantClass, subject: string): void {
  if (cls.kind === 'compiled') {
    throw new UnsupportedModelError(
      `${subject}: ${cls.reason}; to split, emulate or compile it SwapLess needs its source: ${GIVE_UNCOMPILED}`,
      { details: { kind: cls.kind, reason: cls.reason } },
    );
  }
  if (cls.kind === 'unrunnable') {
    throw new UnsupportedModelError(`${subject}: ${cls.reason}`, {
      details: { kind: cls.kind, reason: cls.reason },
    });
  }
}

/**
 * The Edge TPU part of a model for a command that times or compiles it (`emulate`, `compile`): the end of its
 * mappable prefix, or `UnsupportedModelError` when there is none — `nothing of this model maps to the Edge TPU
 * (op 0 is CAST)`, `float model: …`, or for a compiled model the advice to give its uncompiled source. A model
 * with a custom op after a mappable prefix still has an Edge TPU part. `subject` names the model in the message.
 */
export function edgetpuPart(cls: TenantClass, subject: string): number {
  if (cls.kind === 'compiled') assertSplittable(cls, subject);
  if (cls.edgetpuPrefix > 0) return cls.edgetpuPrefix;
  const why = cls.unmappable ?? 'nothing of this model maps to the Edge TPU';
  throw new UnsupportedModelError(`${subject}: ${why}`, { details: { kind: cls.kind, reason: why } });
}
