/**
 * Compile reports in one shape whatever produced them: the emulator's {@link CompileReport}
 * (`source: 'emulated'`), or the same fields filled from a real `edgetpu_compiler` run
 * (`source: 'edgetpu_compiler'`). The compiler prints only memory figures and op counts; the fields it does
 * not print are derived from the segment by the emulator's rules and listed in `derived`.
 */
import type { TfliteModel } from '@swapless/tflite';
import type {
  CompileReport,
  DeviceProfile,
  LayerReport,
  ModelCompileReport,
  ParameterPlacement,
} from '@swapless/tpu-emulator';
import { segmentFacts } from '@swapless/tpu-emulator';
import type { EdgeTpuRunModel, EdgeTpuRunResult } from './edgetpu.js';
import type { OperationRow } from './parse.js';

/** Which path produced a report: the emulator, or the real Edge TPU Compiler. */
export type ReportSource = 'emulated' | 'edgetpu_compiler';

/** A model's report from a real compile: the emulator's fields plus what only the compiler prints. */
export interface EdgeTpuModelCompileReport extends ModelCompileReport {
  /** "Number of Edge TPU subgraphs". */
  readonly edgetpuSubgraphs: number;
  /** Some ops will run on the CPU ("Model successfully compiled but not all operations are supported…"). */
  readonly partial: boolean;
  /** The operation table (from the `.log` file, else as printed with `-s`). */
  readonly operations: readonly OperationRow[];
  /** "Input size" / "Output size", bytes (as printed, rounded to two decimals of their unit). */
  readonly inputFileBytes?: number;
  readonly outputFileBytes?: number;
}

/** The report of a real compile, in the emulator's shape with `source: 'edgetpu_compiler'`. */
export interface EdgeTpuCompilerReport extends Omit<CompileReport, 'source' | 'models'> {
  readonly source: 'edgetpu_compiler';
  /** The compiler run: its version, arguments and compile time as printed. */
  readonly compiler: {
    readonly version: string;
    readonly args: readonly string[];
    readonly compileTimeMs?: number;
  };
  /**
   * Fields that the compiler does not print and SwapLess derived from the segment (docs/compiler.md):
   * JSON paths such as `models[].layers`.
   */
  readonly derived: readonly string[];
  readonly models: readonly EdgeTpuModelCompileReport[];
}

/** A compile report from either path; branch on `source`. */
export type SegmentCompileReport = CompileReport | EdgeTpuCompilerReport;

/** Fields of an {@link EdgeTpuCompilerReport} that come from SwapLess's analysis, not the compiler output. */
export const DERIVED_FIELDS: readonly string[] = Object.freeze([
  'cachingToken',
  'activationReserveBytes',
  'models[].layers',
  'models[].macs',
  'models[].inputBytes',
  'models[].outputBytes',
  'models[].largestActivationBytes',
  'models[].firstUnmapped',
]);

/** Half a unit in the last printed decimal: how far a printed size may be from the true byte count. */
function printedTolerance(bytes: number): number {
  if (bytes >= 1024 ** 3) return 0.005 * 1024 ** 3;
  if (bytes >= 1024 ** 2) return 0.005 * 1024 ** 2;
  if (bytes >= 1024) return 0.005 * 1024;
  return 0.5;
}

function modelReport(index: number, model: TfliteModel, run: EdgeTpuRunModel): EdgeTpuModelCompileReport {
  const { block, counts, operations } = run;
  // The compiler maps a prefix of the op order (the first op it cannot map ends the Edge TPU part).
  const facts = segmentFacts(model, counts.edgetpu);
  const { analysis, macs, inputBytes, outputBytes, largestActivationBytes } = facts;
  const graph = model.subgraphs[0]!;
  const mapped = facts.layers.length;
  const cachedBytes = block.onChipUsedBytes ?? 0;
  const remaining =
    block.onChipRemainingBytes ??
    (block.onChipAvailableBytes === undefined ? 0 : Math.max(0, block.onChipAvailableBytes - cachedBytes));
  const streamedBytes = block.offChipBytes ?? 0;
  const tolerance = printedTolerance(cachedBytes);
  let placedCached = 0;
  let full = false;
  // Whole layers in graph order until the printed on-chip figure is reached, then everything streams.
  const layers: LayerReport[] = facts.layers.map((layer) => {
    let placement: ParameterPlacement = 'none';
    if (layer.weightBytes > 0) {
      if (!full && placedCached + layer.weightBytes <= cachedBytes + tolerance) {
        placement = 'cached';
        placedCached += layer.weightBytes;
      } else {
        full = true;
        placement = 'streamed';
      }
    }
    return { ...layer, placement };
  });
  let firstUnmapped: ModelCompileReport['firstUnmapped'];
  if (counts.cpu > 0 && mapped < analysis.n) {
    const op = analysis.ops[mapped]!;
    const row =
      operations.find((r) => !r.mapped && r.operator === op.type) ?? operations.find((r) => !r.mapped);
    firstUnmapped = {
      position: mapped,
      type: op.type,
      reason: row?.status ?? op.edgetpu.reason ?? 'not mapped by edgetpu_compiler',
    };
  }
  const report: EdgeTpuModelCompileReport = {
    index,
    name: model.description ?? graph.name ?? '',
    opCount: counts.total,
    mappedOps: counts.edgetpu,
    unmappedOps: counts.cpu,
    ...(firstUnmapped === undefined ? {} : { firstUnmapped }),
    onChipCachedBytes: cachedBytes,
    onChipRemainingBytes: remaining,
    offChipStreamedBytes: streamedBytes,
    parameterBytes: cachedBytes + streamedBytes,
    macs,
    inputBytes,
    outputBytes,
    largestActivationBytes,
    layers,
    edgetpuSubgraphs: block.edgetpuSubgraphs ?? (counts.edgetpu > 0 ? 1 : 0),
    partial: block.partial || counts.cpu > 0,
    operations,
    ...(block.inputSizeBytes === undefined ? {} : { inputFileBytes: block.inputSizeBytes }),
    ...(block.outputSizeBytes === undefined ? {} : { outputFileBytes: block.outputSizeBytes }),
  };
  return report;
}

/**
 * Builds the report of a real compile from a parsed run: per model the printed memory figures and op counts,
 * plus the derived fields of {@link DERIVED_FIELDS}; for a set, totals over models, the last model's
 * "remaining" as the set's, and budget = cached + remaining.
 *
 * @param run A successful {@link EdgeTpuRunResult}.
 * @param models The input segments, in the run's argument order.
 * @param profile The device the figures are meant for (names the report and sizes the activation reserve).
 * @param cachingToken The token of the compiled unit (the real one is inside the compiled file).
 */
export function reportFromCompilerRun(
  run: EdgeTpuRunResult,
  models: readonly TfliteModel[],
  profile: DeviceProfile,
  cachingToken: string,
): EdgeTpuCompilerReport {
  const reports = run.models.map((m, i) => modelReport(i, models[i]!, m));
  const cached = reports.reduce((s, r) => s + r.onChipCachedBytes, 0);
  const remaining = reports.at(-1)?.onChipRemainingBytes ?? 0;
  const budget = cached + remaining;
  const sram = (profile.sramMiB - profile.fixedReserveMiB) * 1024 * 1024;
  const compiler: EdgeTpuCompilerReport['compiler'] = {
    version: run.version ?? 'unknown',
    args: run.args,
    ...(run.parsed.compileTimeMs === undefined ? {} : { compileTimeMs: run.parsed.compileTimeMs }),
  };
  return {
    source: 'edgetpu_compiler',
    reportVersion: 1,
    profile: profile.name,
    cachingToken,
    activationReserveBytes: Math.max(0, Math.round(sram - budget)),
    parameterBudgetBytes: budget,
    onChipCachedBytes: cached,
    onChipRemainingBytes: remaining,
    offChipStreamedBytes: reports.reduce((s, r) => s + r.offChipStreamedBytes, 0),
    mappedOps: reports.reduce((s, r) => s + r.mappedOps, 0),
    unmappedOps: reports.reduce((s, r) => s + r.unmappedOps, 0),
    models: reports,
    compiler,
    derived: DERIVED_FIELDS,
  };
}
