import type { TensorArray } from '@swapless/contracts';
import { assertSplittable, classifyModel } from '@swapless/controller';
import { createInterpreter, type Interpreter, listEdgeTpus, prepareModel } from '@swapless/edgetpu';
import {
  analyzeModel,
  type CutPoint,
  chainParts,
  cutPoints,
  readModel,
  splitModel,
  writeModel,
} from '@swapless/tflite';
import { intFlag, parseCommand } from '../args.js';
import type { Command } from '../command.js';
import { backendLabel, makeInputs, ms, timeRuns } from '../inference.js';
import { defaultModelPath, readBytes, resolveModelPath } from '../model-file.js';
import { describePrefix, formatBytes, formatCount } from '../output.js';
import { verifySplit } from '../split-verify.js';

const help = `Usage: swapless demo [--model PATH] [--at K] [--threads N] [--repeat N] [--json]

The end-to-end check of partitioned inference on one model: inspect it, split it at a cut point into a head
(ops [0,K), the Edge TPU part) and a tail (ops [K,n), the CPU part), run the whole model and the chained parts
on the real TFLite runtime with the same input, verify that the outputs are bit-identical, and print the
measured invoke times.

Without --model it uses the embedded default, face_detection_short_range.tflite from @mediapipe/face_detection.
A model with a custom op TFLite cannot run here, or a compiled *_edgetpu.tflite (give the model that was passed
to edgetpu_compiler), is refused with exit status 1 and the reason.

Options:
  --model PATH  a .tflite file (default: the embedded face detector)
  --at K        cut point (default: a cut with the fewest boundary tensors near half of the MACs)
  --threads N   CPU threads for every part (default 1)
  --repeat N    timed runs per measurement (default 30)
  --json        print the result as JSON (docs/cli.md)
  -h, --help    show this help`;

/**
 * A usable cut with the fewest boundary tensors among inner cuts, then the one whose head has closest to half the
 * MACs; 0 when no inner cut is usable.
 */
export function defaultCut(cuts: CutPoint[], totalMacs: number): number {
  const inner = cuts.slice(1, -1).filter((c) => c.usable);
  if (inner.length === 0) return 0;
  const fewest = Math.min(...inner.map((c) => c.boundary.length));
  let best = inner.find((c) => c.boundary.length === fewest)!;
  for (const c of inner) {
    if (c.boundary.length !== fewest) continue;
    if (Math.abs(c.prefixMacs - totalMacs / 2) < Math.abs(best.prefixMacs - totalMacs / 2)) best = c;
  }
  return best.k;
}

function runOnce(interpreter: Interpreter, inputs: TensorArray[]): TensorArray[] {
  for (const [i, a] of inputs.entries()) interpreter.setInput(i, a);
  interpreter.invoke();
  return interpreter.outputs.map((_, i) => interpreter.getOutput(i));
}

export const demoCommand: Command = {
  name: 'demo',
  summary:
    'split a model (default: the embedded face detector), run whole vs. parts, verify bit-identical outputs',
  help,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommand('demo', argv, {
      model: { type: 'string' },
      at: { type: 'string' },
      threads: { type: 'string' },
      repeat: { type: 'string' },
    });
    if (pos.length > 0) {
      const { UsageError } = await import('@swapless/core');
      throw new UsageError(
        `Expected no positional arguments for swapless demo but received ${pos.join(' ')} (use --model PATH)`,
      );
    }
    const threads = intFlag('threads', values.threads, 1, 256) ?? 1;
    const repeat = intFlag('repeat', values.repeat, 1, 100_000) ?? 30;
    const path = values.model ?? defaultModelPath();
    const bytes = await readBytes(await resolveModelPath(path));
    const model = readModel(bytes);
    const analysis = analyzeModel(model);
    // The demo runs the model and its parts on the CPU: a custom op nothing here runs, or a compiled model, is
    // refused with the reason (exit 1) before any interpreter is created.
    assertSplittable(classifyModel(model, analysis), path);
    const cuts = cutPoints(model);
    const k = intFlag('at', values.at, 0, Number.MAX_SAFE_INTEGER) ?? defaultCut(cuts, analysis.totals.macs);
    const { head, tail, boundary } = splitModel(model, k);
    const headBytes = head === null ? null : writeModel(head);
    const tailBytes = tail === null ? null : writeModel(tail);

    // Each model is prepared (parsed, and rewritten to int8 when it computes in uint8) once for the timed
    // interpreters and the check below. The model was verified by readModel above and the parts were written from
    // it here, so none is verified again.
    const wholeModel = prepareModel(bytes, { verify: false });
    const headModel = headBytes === null ? null : prepareModel(headBytes, { verify: false });
    const tailModel = tailBytes === null ? null : prepareModel(tailBytes, { verify: false });
    const settings = { threads, delegate: 'cpu' as const };
    const whole = createInterpreter(wholeModel, settings);
    const headI = headModel === null ? null : createInterpreter(headModel, settings);
    const tailI = tailModel === null ? null : createInterpreter(tailModel, settings);
    try {
      // Bit-identity on the same kernels for all three; when the accelerated kernels differ between the whole model
      // and a part (XNNPACK prepares one and not the other), the check is repeated on TFLite's reference kernels.
      const verdict = verifySplit(model, wholeModel, { head: headModel, tail: tailModel }, boundary, 1, 1, {
        threads,
      });
      const onReference = verdict.referenceKernels?.identical === true;
      const identical = verdict.exact;
      const inputs = makeInputs(whole, 'random', 1);
      const chained = (): TensorArray[] =>
        chainParts(
          boundary,
          inputs,
          (ins) => runOnce(headI!, ins),
          (ins) => runOnce(tailI!, ins),
        );

      const tWhole = timeRuns(() => whole.invoke(), repeat, 3);
      const tHead = headI === null ? null : timeRuns(() => headI.invoke(), repeat, 3);
      const tTail = tailI === null ? null : timeRuns(() => tailI.invoke(), repeat, 3);
      const tChained = timeRuns(() => void chained(), repeat, 3);
      const devices = listEdgeTpus();
      const cut = cuts[k]!;
      const report = {
        model: path,
        computeOps: analysis.n,
        params: analysis.totals.params,
        macs: analysis.totals.macs,
        edgetpuPrefix: analysis.edgetpuPrefix.length,
        edgetpuPrefixReason: analysis.edgetpuPrefix.reason ?? null,
        k,
        boundary: boundary.tensors.map((t) => ({ name: t.name, shape: t.shape, bytes: t.bytes })),
        headOps: k,
        tailOps: analysis.n - k,
        headMacsShare: analysis.totals.macs === 0 ? 0 : cut.prefixMacs / analysis.totals.macs,
        bitIdentical: verdict.identical,
        bitIdenticalOnReferenceKernels: verdict.referenceKernels === null ? null : onReference,
        edgeTpus: devices,
        backend: backendLabel(whole.backend),
        source: 'measured' as const,
        timing: { whole: tWhole, head: tHead, tail: tTail, chained: tChained },
      };
      if (values.json) {
        io.out(JSON.stringify(report, null, 2));
        return identical ? 0 : 1;
      }
      const share = (100 * report.headMacsShare).toFixed(1);
      const rows: [string, string][] = [
        ['whole model', `${ms(tWhole.medianMs)} ms`],
        [`head [0,${k})`, tHead ? `${ms(tHead.medianMs)} ms` : '— (empty)'],
        [`tail [${k},${analysis.n})`, tTail ? `${ms(tTail.medianMs)} ms` : '— (empty)'],
        ['head → tail', `${ms(tChained.medianMs)} ms (incl. boundary copies)`],
      ];
      const width = Math.max(...rows.map(([l]) => l.length));
      io.out(
        [
          `SwapLess demo — ${path}`,
          `  model:     ${analysis.n} ops, ${formatCount(analysis.totals.params)} params, ${formatCount(analysis.totals.macs)} MACs`,
          `  Edge TPU:  ${describePrefix(analysis.edgetpuPrefix, analysis.n)}`,
          `  cut:       k=${k}: head ops [0,${k}) = ${share}% of MACs, tail ops [${k},${analysis.n}); boundary ${report.boundary.length} tensor(s), ${formatBytes(cut.bytes)}`,
          `  outputs:   whole vs head → tail: ${
            verdict.identical
              ? 'bit-identical'
              : onReference
                ? "bit-identical on TFLite's reference kernels (the accelerated kernels differ between the whole model and its parts)"
                : 'DIFFERENT'
          }`,
          `  times (${report.backend}, median of ${repeat}):`,
          ...rows.map(([l, v]) => `    ${l.padEnd(width)}  ${v}`),
          devices.length === 0
            ? '  Edge TPU devices: none found, so the head ran on the CPU here (all times above are CPU times).'
            : `  Edge TPU devices: ${devices.map((d) => `${d.type}:${d.path}`).join(', ')}`,
        ].join('\n'),
      );
      return identical ? 0 : 1;
    } finally {
      whole.dispose();
      headI?.dispose();
      tailI?.dispose();
    }
  },
};
