import {
  analyzeModel,
  type CutPoint,
  compiledModelSummary,
  cutPoints,
  emptyPrefixSentence,
  type ModelAnalysis,
  modelClass,
  rankCuts,
  runnability,
  type TfliteModel,
  tensorTypeName,
} from '@swapless/tflite';
import { intFlag, parseCommand, positionals } from '../args.js';
import type { Command } from '../command.js';
import { loadModel } from '../model-file.js';
import { describePrefix, formatBytes, formatCount, table } from '../output.js';

const help = `Usage: swapless inspect MODEL [--ops] [--cuts N] [--json]

Reads and verifies a .tflite model and prints what partitioning needs to know: what kind of model it is
(quantized, float, or already compiled for the Edge TPU) and whether the TFLite runtime here can run it,
inputs and outputs, op count, parameters, multiply-accumulates (MACs), the Edge-TPU-mappable prefix (ops [0,k)
of any cut inside it can run on the Edge TPU), and the cheapest usable cut points (fewest boundary tensors,
smallest boundary bytes). Cuts that cannot be made (a variable tensor would be used on both sides, …) are
listed apart with the reason.

Options:
  --ops        also print one row per op (type, MACs, params, bytes, Edge TPU mapping)
  --cuts N     how many of the cheapest cut points to list (default 10; 0 lists none)
  --json       print everything as one JSON document: every op and every cut point (docs/cli.md)
  -h, --help   show this help

Cut point k sends ops [0,k) to the Edge TPU and [k,n) to the CPU; constant-only ops (e.g. DEQUANTIZE of
fp16 weights) travel with the op that consumes them and are not counted in n.`;

function tensorInfo(model: TfliteModel, t: number) {
  const tensor = model.subgraphs[0]!.tensors[t]!;
  return { index: t, name: tensor.name, type: tensorTypeName(tensor.type), shape: tensor.shape };
}

function ioTensors(model: TfliteModel, which: 'inputs' | 'outputs') {
  return model.subgraphs[0]![which].map((t) => tensorInfo(model, t));
}

/** The `compiled` section: the edgetpu-custom-ops with their tensors and payloads, and the ops left outside. */
function compiledReport(model: TfliteModel) {
  const summary = compiledModelSummary(model);
  if (summary === undefined) return null;
  return {
    edgetpuOps: summary.edgetpuOps.map((o) => ({
      index: o.index,
      inputs: o.inputs.filter((t) => t >= 0).map((t) => tensorInfo(model, t)),
      outputs: o.outputs.map((t) => tensorInfo(model, t)),
      payloadBytes: o.payloadBytes,
      payload: o.payload ?? null,
      payloadError: o.payloadError ?? null,
    })),
    payloadBytes: summary.payloadBytes,
    cpuOps: summary.cpuOps,
    parameterBytes: summary.parameterBytes ?? null,
  };
}

/**
 * The one-line Edge TPU verdict: compiled, float, empty prefix (CPU-only tenant), or the mappable prefix.
 */
function edgetpuSummary(
  model: TfliteModel,
  analysis: ModelAnalysis,
  kind: ReturnType<typeof modelClass>,
): string {
  if (kind === 'compiled') {
    const c = compiledModelSummary(model)!;
    const ops = c.edgetpuOps.length;
    const cpu = c.cpuOps.length;
    return `compiled for the Edge TPU by edgetpu_compiler: ${ops} edgetpu-custom-op${ops === 1 ? '' : 's'} (${formatBytes(c.payloadBytes)} of compiled payload) and ${cpu} CPU op${cpu === 1 ? '' : 's'} outside ${ops === 1 ? 'it' : 'them'}; serve it as it is on a real Edge TPU (no split), or give the uncompiled quantized model to split and emulate`;
  }
  const empty = emptyPrefixSentence(model, analysis);
  if (empty !== undefined) return `${empty}; it would be a CPU-only tenant (k = 0)`;
  return describePrefix(analysis.edgetpuPrefix, analysis.n);
}

/** Builds the stable JSON report of `swapless inspect` (documented in docs/cli.md). */
export function inspectReport(
  path: string,
  fileBytes: number,
  model: TfliteModel,
  analysis = analyzeModel(model),
  cuts = cutPoints(model),
) {
  const kind = modelClass(model);
  const run = runnability(model);
  return {
    path,
    fileBytes,
    version: model.version,
    description: model.description ?? null,
    subgraphs: model.subgraphs.length,
    modelClass: kind,
    runnable: {
      cpu: run.cpuRunnable,
      reason: run.reason ?? null,
      unresolvedCustomOps: [...run.unresolvedCustomOps],
    },
    inputs: ioTensors(model, 'inputs'),
    outputs: ioTensors(model, 'outputs'),
    signatureDefs: (model.signatureDefs ?? []).map((s) => ({
      key: s.signatureKey ?? null,
      subgraph: s.subgraphIndex,
      inputs: s.inputs.map((m) => ({ name: m.name ?? null, tensor: m.tensorIndex })),
      outputs: s.outputs.map((m) => ({ name: m.name ?? null, tensor: m.tensorIndex })),
    })),
    metadata: (model.metadata ?? []).map((m) => ({
      name: m.name ?? null,
      bytes: model.buffers[m.buffer]?.data?.length ?? 0,
    })),
    operators: analysis.operatorCount,
    computeOps: analysis.n,
    params: analysis.totals.params,
    weightBytes: analysis.totals.weightBytes,
    macs: analysis.totals.macs,
    edgetpuPrefix: {
      length: analysis.edgetpuPrefix.length,
      firstUnmappableOp: analysis.edgetpuPrefix.firstUnmappableOp ?? null,
      reason: analysis.edgetpuPrefix.reason ?? null,
      cpuOnly: analysis.edgetpuPrefix.length === 0,
      summary: edgetpuSummary(model, analysis, kind),
    },
    compiled: compiledReport(model),
    ops: analysis.ops.map((o) => ({
      position: o.position,
      index: o.index,
      type: o.type,
      macs: o.macs,
      params: o.params,
      weightBytes: o.weightBytes,
      inputBytes: o.inputBytes,
      outputBytes: o.outputBytes,
      edgetpuMappable: o.edgetpu.mappable,
      reason: o.edgetpu.reason ?? null,
    })),
    cuts: cuts.map((c) => ({
      k: c.k,
      usable: c.usable,
      reason: c.reason ?? null,
      boundaryTensors: c.boundary.length,
      bytes: c.bytes,
      transferBytes: c.transferBytes,
      prefixMacs: c.prefixMacs,
      suffixMacs: c.suffixMacs,
      prefixWeightBytes: c.prefixWeightBytes,
      suffixWeightBytes: c.suffixWeightBytes,
      edgetpuMappable: c.edgetpuMappable,
      boundary: c.boundary.map((b) => ({
        name: b.name,
        type: tensorTypeName(b.type),
        shape: b.shape,
        bytes: b.bytes,
      })),
    })),
    cheapestCuts: rankCuts(cuts, { limit: 10 }).map((c) => c.k),
  };
}

/** Unusable cuts grouped by reason, as `k ranges: reason` lines (consecutive cuts share a range). */
function unusableLines(cuts: readonly CutPoint[]): string[] {
  const byReason = new Map<string, number[]>();
  for (const c of cuts) {
    if (c.usable || c.reason === undefined) continue;
    const ks = byReason.get(c.reason) ?? [];
    ks.push(c.k);
    byReason.set(c.reason, ks);
  }
  return [...byReason].map(([reason, ks]) => {
    const first = ks[0]!;
    const last = ks[ks.length - 1]!;
    const range =
      ks.length === last - first + 1 ? (first === last ? `${first}` : `${first}–${last}`) : ks.join(', ');
    return `  k = ${range}: ${reason}`;
  });
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'ops, parameters, MACs, Edge-TPU-mappable prefix and cut points of a .tflite model',
  help,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommand('inspect', argv, {
      ops: { type: 'boolean', default: false },
      cuts: { type: 'string' },
    });
    const [path] = positionals('inspect', pos, ['model']);
    const cutLimit = intFlag('cuts', values.cuts, 0, 1_000_000) ?? 10;
    const { bytes, model } = await loadModel(path!);
    const analysis = analyzeModel(model);
    const allCuts = cutPoints(model);
    const r = inspectReport(path!, bytes.byteLength, model, analysis, allCuts);
    if (values.json) {
      io.out(JSON.stringify(r, null, 2));
      return 0;
    }
    const shapes = (ts: typeof r.inputs) =>
      ts.map((t) => `${t.name} ${t.type}[${t.shape.join(',')}]`).join(', ');
    const lines = [
      `${r.path} (${formatBytes(r.fileBytes)}, schema v${r.version}${r.subgraphs > 1 ? `, ${r.subgraphs} subgraphs` : ''})`,
      `  class:    ${r.modelClass}`,
      `  runs:     ${r.runnable.cpu ? 'yes, on the TFLite CPU runtime here' : r.runnable.reason}`,
      `  inputs:   ${shapes(r.inputs)}`,
      `  outputs:  ${shapes(r.outputs)}`,
      `  ops:      ${r.computeOps} compute ops (${r.operators} operators incl. constant-only)`,
      `  params:   ${formatCount(r.params)} (${formatBytes(r.weightBytes)} of constants)`,
      `  MACs:     ${formatCount(r.macs)}`,
      `  Edge TPU: ${r.edgetpuPrefix.summary}`,
    ];
    if (r.compiled !== null) lines.push(...compiledLines(r.compiled));
    if (values.ops) {
      lines.push(
        '',
        table(
          ['k', 'op', 'type', 'MACs', 'params', 'out bytes', 'TPU'],
          r.ops.map((o) => [
            o.position,
            o.index,
            o.type,
            o.macs,
            o.params,
            o.outputBytes,
            o.edgetpuMappable ? 'yes' : 'no',
          ]),
        ),
      );
    }
    const unusable = unusableLines(allCuts);
    if (unusable.length > 0) {
      const count = allCuts.filter((c) => !c.usable).length;
      lines.push('', `Unusable cut points (${count} of ${allCuts.length}; split refuses them):`, ...unusable);
    }
    if (cutLimit > 0) {
      const cuts = rankCuts(allCuts, { limit: cutLimit });
      lines.push(
        '',
        `Cheapest cut points (usable ones of ${r.cuts.length}; k = first op on the CPU):`,
        cuts.length === 0
          ? '  none between the ends (k = 0 runs everything on the CPU, k = n everything on the Edge TPU side)'
          : table(
              ['k', 'tensors', 'boundary', 'TPU MACs %', 'TPU-mappable'],
              cuts.map((c) => [
                c.k,
                c.boundary.length,
                formatBytes(c.bytes),
                r.macs === 0 ? '0.0' : ((100 * c.prefixMacs) / r.macs).toFixed(1),
                c.edgetpuMappable ? 'yes' : 'no',
              ]),
            ),
      );
    }
    io.out(lines.join('\n'));
    return 0;
  },
};

/** Text lines for the `compiled` section: each edgetpu-custom-op's tensors and payload, then the CPU ops. */
function compiledLines(c: NonNullable<ReturnType<typeof compiledReport>>): string[] {
  const io = (ts: { name: string; type: string; shape: number[] }[]) =>
    ts.map((t) => `${t.name} ${t.type}[${t.shape.join(',')}]`).join(', ');
  const lines: string[] = [];
  for (const o of c.edgetpuOps) {
    lines.push(`  edgetpu-custom-op (op ${o.index}): ${io(o.inputs)} → ${io(o.outputs)}`);
    if (o.payload === null) {
      lines.push(`    payload: ${formatBytes(o.payloadBytes)} (not decoded: ${o.payloadError})`);
      continue;
    }
    const p = o.payload;
    const exes = p.executables
      .map((e) => `${e.type.toLowerCase().replace('_', '-')} ${formatBytes(e.parameterBytes)} of parameters`)
      .join(', ');
    const chip = p.executables.find((e) => e.chip !== undefined)?.chip;
    lines.push(
      `    payload: ${formatBytes(o.payloadBytes)}; ${p.executables.length} executable${p.executables.length === 1 ? '' : 's'} (${exes})${chip ? ` for chip ${chip}` : ''}${p.minRuntimeVersion !== undefined ? `, Edge TPU runtime ≥ ${p.minRuntimeVersion}` : ''}`,
    );
  }
  if (c.parameterBytes !== null) {
    lines.push(
      `  parameters: ${formatBytes(c.parameterBytes.cached)} cached on the Edge TPU, ${formatBytes(c.parameterBytes.other)} sent with every run`,
    );
  }
  lines.push(
    `  CPU ops:  ${c.cpuOps.length === 0 ? 'none (everything runs in the compiled op)' : c.cpuOps.map((o) => `${o.type} (op ${o.index})`).join(', ')}`,
  );
  return lines;
}
