import { analyzeModel, cutPoints, rankCuts, type TfliteModel, tensorTypeName } from '@swapless/tflite';
import { intFlag, parseCommand, positionals } from '../args.js';
import type { Command } from '../command.js';
import { loadModel } from '../model-file.js';
import { describePrefix, formatBytes, formatCount, table } from '../output.js';

const help = `Usage: swapless inspect MODEL [--ops] [--cuts N] [--json]

Reads and verifies a .tflite model and prints what partitioning needs to know: inputs and outputs, op count,
parameters, multiply-accumulates (MACs), the Edge-TPU-mappable prefix (ops [0,k) of any cut inside it can run on
the Edge TPU), and the cheapest cut points (fewest boundary tensors, smallest boundary bytes).

Options:
  --ops        also print one row per op (type, MACs, params, bytes, Edge TPU mapping)
  --cuts N     how many of the cheapest cut points to list (default 10; 0 lists none)
  --json       print everything as one JSON document: every op and every cut point (docs/cli.md)
  -h, --help   show this help

Cut point k sends ops [0,k) to the Edge TPU and [k,n) to the CPU; constant-only ops (e.g. DEQUANTIZE of
fp16 weights) travel with the op that consumes them and are not counted in n.`;

function ioTensors(model: TfliteModel, which: 'inputs' | 'outputs') {
  const g = model.subgraphs[0]!;
  return g[which].map((t) => {
    const tensor = g.tensors[t]!;
    return { index: t, name: tensor.name, type: tensorTypeName(tensor.type), shape: tensor.shape };
  });
}

/** Builds the stable JSON report of `swapless inspect` (documented in docs/cli.md). */
export function inspectReport(
  path: string,
  fileBytes: number,
  model: TfliteModel,
  analysis = analyzeModel(model),
  cuts = cutPoints(model),
) {
  return {
    path,
    fileBytes,
    version: model.version,
    description: model.description ?? null,
    subgraphs: model.subgraphs.length,
    inputs: ioTensors(model, 'inputs'),
    outputs: ioTensors(model, 'outputs'),
    operators: analysis.operatorCount,
    computeOps: analysis.n,
    params: analysis.totals.params,
    weightBytes: analysis.totals.weightBytes,
    macs: analysis.totals.macs,
    edgetpuPrefix: {
      length: analysis.edgetpuPrefix.length,
      firstUnmappableOp: analysis.edgetpuPrefix.firstUnmappableOp ?? null,
      reason: analysis.edgetpuPrefix.reason ?? null,
    },
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
      `  inputs:   ${shapes(r.inputs)}`,
      `  outputs:  ${shapes(r.outputs)}`,
      `  ops:      ${r.computeOps} compute ops (${r.operators} operators incl. constant-only)`,
      `  params:   ${formatCount(r.params)} (${formatBytes(r.weightBytes)} of constants)`,
      `  MACs:     ${formatCount(r.macs)}`,
      `  Edge TPU: ${describePrefix(analysis.edgetpuPrefix, r.computeOps)}`,
    ];
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
    if (cutLimit > 0) {
      const cuts = rankCuts(allCuts, { limit: cutLimit });
      lines.push(
        '',
        `Cheapest cut points (of ${r.cuts.length}; k = first op on the CPU):`,
        table(
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
