/**
 * Can this model run here, and on what? Custom ops are the one thing the reader cannot judge by the schema:
 * TFLite 2.9's C library resolves only the custom ops its builtin resolver registers, and an Edge TPU
 * compiled model holds an `edgetpu-custom-op` that only the Edge TPU delegate (libedgetpu) can run.
 * One home for that knowledge, so `inspect`, `run`, `plan` and the server say the same sentence.
 */
import type { TfliteModel } from './model.js';
import { BuiltinOperator } from './ops.js';

/**
 * Custom ops that TFLite 2.9's builtin op resolver registers (and so the TFLite C library runs on the CPU):
 * checked on this library by loading models that use each name.
 */
export const CPU_CUSTOM_OPS: ReadonlySet<string> = new Set([
  'TFLite_Detection_PostProcess',
  'Mfcc',
  'AudioSpectrogram',
]);

/** The custom op `edgetpu_compiler` puts in a compiled model; only the Edge TPU delegate runs it. */
export const EDGETPU_CUSTOM_OP = 'edgetpu-custom-op';

/** What {@link runnability} found. */
export interface Runnability {
  /** Custom op codes (each once, in first-use order) that nothing here can run: not CPU-resolvable, not Edge TPU. */
  readonly unresolvedCustomOps: readonly string[];
  /** Operator indices (subgraph 0) of `edgetpu-custom-op`s: the model was compiled by `edgetpu_compiler`. */
  readonly edgetpuOps: readonly number[];
  /** True when the model holds at least one `edgetpu-custom-op`. */
  readonly compiled: boolean;
  /** True when the TFLite CPU runtime alone can run every op (no unresolved custom op, no Edge TPU op). */
  readonly cpuRunnable: boolean;
  /**
   * The user-facing sentence when the CPU runtime cannot run the model, e.g.
   * `cannot run here: custom op Convolution2DTransposeBias`; absent when it can.
   */
  readonly reason?: string;
}

/** Which custom ops of a model (every subgraph) the runtime here can resolve, and whether it is Edge-TPU-compiled. */
export function runnability(model: TfliteModel): Runnability {
  const unresolved: string[] = [];
  const edgetpuOps: number[] = [];
  model.subgraphs.forEach((graph, g) => {
    graph.operators.forEach((op, i) => {
      const code = model.operatorCodes[op.opcodeIndex];
      if (code === undefined || code.builtinCode !== BuiltinOperator.CUSTOM) return;
      const name = code.customCode ?? '';
      if (name === EDGETPU_CUSTOM_OP) {
        if (g === 0) edgetpuOps.push(i);
        else if (!unresolved.includes(name)) unresolved.push(name);
        return;
      }
      if (!CPU_CUSTOM_OPS.has(name) && !unresolved.includes(name)) unresolved.push(name);
    });
  });
  const compiled = edgetpuOps.length > 0;
  const cpuRunnable = unresolved.length === 0 && !compiled;
  const result: Runnability = { unresolvedCustomOps: unresolved, edgetpuOps, compiled, cpuRunnable };
  if (cpuRunnable) return result;
  const reason =
    unresolved.length > 0
      ? `cannot run here: custom op ${unresolved.map((n) => (n === '' ? '(unnamed)' : n)).join(', ')}`
      : `cannot run here: compiled for the Edge TPU (${edgetpuOps.length} ${EDGETPU_CUSTOM_OP}${edgetpuOps.length === 1 ? '' : 's'}); it needs a real Edge TPU and libedgetpu`;
  return { ...result, reason };
}
