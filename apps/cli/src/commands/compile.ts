import { type CompilerChoice, coCompile, type SegmentCompileReport, variants } from '@swapless/compiler';
import { classifyModel, edgetpuPart } from '@swapless/controller';
import { UnsupportedModelError, UsageError } from '@swapless/core';
import { analyzeModel, cutPoints, rankCuts, readModel } from '@swapless/tflite';
import { choiceFlag, intFlag, parseCommand } from '../args.js';
import type { Command } from '../command.js';
import { readBytes, resolveModelPath } from '../model-file.js';
import { formatBytes, type Output, table } from '../output.js';
import { progressBar, stderrSink } from '../progress.js';

const help = `Usage: swapless compile MODEL [--cuts auto|all|k1,k2,…] [--device D] [--compiler C] [--json]
       swapless compile --co-compile A,B,… [--device D] [--compiler C] [--json]

Makes the deployable segments of a model for each cut point: the Edge TPU part (ops [0,k)) and the CPU part
(ops [k,n)) as .tflite files, with the compile report of the Edge TPU part (parameters cached on chip,
remaining, streamed per call; ops mapped). With edgetpu_compiler installed (on PATH or
$SWAPLESS_EDGETPU_COMPILER) it runs the real compiler; otherwise the report comes from the Edge TPU device model
and every output says "emulated". Results are cached under $SWAPLESS_CACHE_DIR/variants by model hash, cut and
compiler identity.

  --co-compile A,B,…   compile the Edge-TPU-mappable parts of several models together (one caching token: they
                       stay cached together, no reload when they take turns), parameters cached in argument order

Options:
  --cuts C       auto (default: the 8 cheapest cuts inside the mappable prefix, plus its end), all, or a list
  --device D     profile of the emulated report: usb3 (default), usb2, pcie, devboard
  --compiler C   auto (default: the real compiler when found), edgetpu_compiler (required), emulator
  --json         print the result as JSON (docs/cli.md)
  -h, --help     show this help

MODEL, A, B are .tflite paths or zoo names. A model of which nothing maps to the Edge TPU (a float model, or a
first op the Edge TPU cannot run) and a compiled *_edgetpu.tflite (give the model that was passed to
edgetpu_compiler) are refused with exit status 1 and the reason; so is a run that produced no variant.`;

function reportSummary(r: SegmentCompileReport | null) {
  if (r === null) return null;
  return {
    source: r.source,
    mappedOps: r.mappedOps,
    unmappedOps: r.unmappedOps,
    onChipCachedBytes: r.onChipCachedBytes,
    onChipRemainingBytes: r.onChipRemainingBytes,
    offChipStreamedBytes: r.offChipStreamedBytes,
  };
}

function parseCuts(raw: string | undefined, n: number, prefix: number, auto: () => number[]): number[] {
  if (raw === undefined || raw === 'auto') return auto();
  if (raw === 'all') return Array.from({ length: prefix + 1 }, (_, k) => k);
  return raw.split(',').map((s) => intFlag('cuts', s.trim(), 0, n)!);
}

export const compileCommand: Command = {
  name: 'compile',
  summary: 'make TPU/CPU segment variants per cut with compile reports (edgetpu_compiler or emulated)',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommand('compile', argv, {
      cuts: { type: 'string' },
      device: { type: 'string' },
      compiler: { type: 'string' },
      'co-compile': { type: 'string' },
    });
    const compiler: CompilerChoice =
      choiceFlag('compiler', values.compiler, ['auto', 'edgetpu_compiler', 'emulator'] as const) ?? 'auto';
    const profile =
      choiceFlag('device', values.device, ['usb3', 'usb2', 'pcie', 'devboard'] as const) ?? 'usb3';
    const bar = progressBar(stderrSink);
    const options = { compiler, profile, onProgress: bar };
    const co = values['co-compile'];
    if ((co === undefined) === (positionals.length === 0) || positionals.length > 1) {
      throw new UsageError(
        'Expected exactly one of MODEL or --co-compile A,B,… for swapless compile (see --help)',
      );
    }

    if (co !== undefined) return coCompileModels(co, values.cuts, options, bar, values.json === true, io);

    const spec = positionals[0]!;
    const bytes = await readBytes(await resolveModelPath(spec));
    const model = readModel(bytes);
    const a = analyzeModel(model);
    // Nothing to compile (nothing maps, or already compiled): say why, exit 1, before any variant is made.
    const prefix = edgetpuPart(classifyModel(model, a), spec);
    const cuts = parseCuts(values.cuts, a.n, prefix, () => {
      const ranked = rankCuts(cutPoints(model), { limit: 8, mappableOnly: true }).map((c) => c.k);
      return [...new Set([...ranked, prefix])].filter((k) => k > 0).sort((x, y) => x - y);
    });
    let list: Awaited<ReturnType<typeof variants>>;
    try {
      list = await variants(bytes, cuts, options);
    } finally {
      bar.done();
    }
    if (list.length === 0) {
      throw new UnsupportedModelError(
        `${spec}: compile produced no variant (cuts ${JSON.stringify(cuts)} of ${a.n} ops; Edge-TPU-mappable prefix ${prefix} ops)`,
      );
    }
    const result = {
      model: spec,
      n: a.n,
      edgetpuPrefix: prefix,
      variants: list.map((v) => ({
        k: v.k,
        source: v.source,
        fromCache: v.fromCache,
        partial: v.partial,
        tpu: v.files.tpu,
        tpuCompiled: v.files.tpuCompiled,
        cpu: v.files.cpu,
        boundaryTensors: v.boundary.tensors.length,
        report: reportSummary(v.report),
      })),
    };
    if (values.json) {
      io.out(JSON.stringify(result, null, 2));
      return 0;
    }
    io.out(
      [
        `${spec}: ${list.length} variant(s) of ${a.n} ops (Edge-TPU-mappable prefix: ${prefix} ops); report ${list[0]?.source ?? '—'}`,
        table(
          ['k', 'mapped', 'cached on chip', 'remaining', 'streamed/call', 'cache'],
          result.variants.map((v) => [
            v.k,
            v.report?.mappedOps ?? 0,
            formatBytes(v.report?.onChipCachedBytes ?? 0),
            formatBytes(v.report?.onChipRemainingBytes ?? 0),
            formatBytes(v.report?.offChipStreamedBytes ?? 0),
            v.fromCache ? 'hit' : 'new',
          ]),
        ),
        `  files: ${list[0] ? list[0].dir.replace(/\/k\d+\/.*$/, '/k*/') : '—'}`,
      ].join('\n'),
    );
    return 0;
  },
};

/** What `compile` passes to the compiler: which compiler, the device profile, the progress bar. */
interface CompileOptions {
  compiler: CompilerChoice;
  profile: 'usb3' | 'usb2' | 'pcie' | 'devboard';
  onProgress: ReturnType<typeof progressBar>;
}

/** `--co-compile A,B,…`: the models' Edge-TPU-mappable parts compiled together under one caching token. */
async function coCompileModels(
  co: string,
  cuts: string | undefined,
  options: CompileOptions,
  bar: ReturnType<typeof progressBar>,
  json: boolean,
  io: Output,
): Promise<number> {
  if (cuts !== undefined)
    throw new UsageError('Expected no --cuts with --co-compile (each model contributes its mappable prefix)');
  const names = co.split(',').map((s) => s.trim());
  if (names.length < 2 || names.some((s) => s === '')) {
    throw new UsageError(
      `Expected two or more models A,B,… for --co-compile but received ${JSON.stringify(co)}`,
    );
  }
  // Each model contributes its Edge-TPU-mappable prefix, made by the same variant machinery.
  const heads: string[] = [];
  for (const name of names) {
    const bytes = await readBytes(await resolveModelPath(name));
    const k = edgetpuPart(classifyModel(readModel(bytes)), name);
    const [v] = await variants(bytes, [k], options);
    heads.push(v!.files.tpu!);
  }
  let set: Awaited<ReturnType<typeof coCompile>>;
  try {
    set = await coCompile(heads, options);
  } finally {
    bar.done();
  }
  const result = {
    source: set.source,
    models: names,
    cachingToken: set.cachingToken,
    fromCache: set.fromCache,
    dir: set.dir,
    report: reportSummary(set.report),
    perModel: set.report.models.map((m, i) => ({
      model: names[i],
      onChipCachedBytes: m.onChipCachedBytes,
      offChipStreamedBytes: m.offChipStreamedBytes,
      mappedOps: m.mappedOps,
    })),
  };
  if (json) {
    io.out(JSON.stringify(result, null, 2));
    return 0;
  }
  io.out(
    [
      `Co-compiled ${names.join(' + ')} (${set.source}; caching token ${set.cachingToken.slice(0, 12)}…${set.fromCache ? ', from cache' : ''})`,
      table(
        ['model', 'ops mapped', 'cached on chip', 'streamed per call'],
        result.perModel.map((m) => [
          m.model!,
          m.mappedOps,
          formatBytes(m.onChipCachedBytes),
          formatBytes(m.offChipStreamedBytes),
        ]),
      ),
      `  remaining on chip: ${formatBytes(set.report.onChipRemainingBytes)}; files in ${set.dir}`,
    ].join('\n'),
  );
  return 0;
}
