import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { SwapLessIoError, UsageError } from '@swapless/core';
import { readModel, runnability, splitModel, tensorTypeName, writeModel } from '@swapless/tflite';
import { intFlag, parseCommand, positionals } from '../args.js';
import type { Command } from '../command.js';
import { readBytes, resolveModelPath } from '../model-file.js';
import { formatBytes } from '../output.js';
import { type VerifyReport, verifySplit } from '../split-verify.js';

const help = `Usage: swapless split MODEL --at K --out DIR [--verify [--samples N] [--seed S]] [--json]

Splits a .tflite model at cut point K into two standalone models: ops [0,K) (the part for the Edge TPU)
and ops [K,n) (the part for the CPU). Running the head, then feeding its outputs to the tail, gives outputs
bit-identical to the whole model. See \`swapless inspect MODEL\` for the cut points and their costs.

Writes DIR/<name>.k<K>.head.tflite, DIR/<name>.k<K>.tail.tflite and DIR/<name>.k<K>.split.json (how the
parts connect: for each tail input, which head output or model input feeds it; for each model output, which
part produces it). K = 0 writes no head; K = n writes no tail. Each part keeps the model's signature defs
(rebuilt for its own inputs and outputs) and the metadata that stays true of a part (docs/splitting.md).

A cut that cannot be made (\`swapless inspect\` lists them, e.g. a variable tensor used on both sides) is
refused with the reason and the usable cuts.

Options:
  --at K        the cut point, 0..n (required)
  --out DIR     output directory, created if missing (required)
  --verify      after writing, run head then tail against the whole model on seeded random inputs on the
                TFLite runtime here and check the outputs are bit-identical; when they differ, repeat on
                TFLite's reference kernels (exit 1 only when they differ there too)
  --samples N   random input sets for --verify (default 5)
  --seed S      seed of the random inputs for --verify (default 1)
  --json        print the paths, the boundary (and the verification) as JSON (docs/cli.md)
  -h, --help    show this help`;

async function write(path: string, data: Uint8Array | string): Promise<void> {
  try {
    await writeFile(path, data);
  } catch (err) {
    throw new SwapLessIoError(
      `Expected a writable path for --out but could not write ${JSON.stringify(path)}: ${String(err)}`,
      {
        cause: err,
        details: { path },
      },
    );
  }
}

export const splitCommand: Command = {
  name: 'split',
  summary: 'split a model at cut point K into an Edge TPU head and a CPU tail (.tflite files)',
  help,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommand('split', argv, {
      at: { type: 'string' },
      out: { type: 'string' },
      verify: { type: 'boolean', default: false },
      samples: { type: 'string' },
      seed: { type: 'string' },
    });
    const [path] = positionals('split', pos, ['model']);
    if (values.at === undefined)
      throw new UsageError('Expected --at K (the cut point) for swapless split but received nothing');
    if (values.out === undefined)
      throw new UsageError('Expected --out DIR for swapless split but received nothing');
    const k = intFlag('at', values.at, 0, Number.MAX_SAFE_INTEGER)!;
    const samples = intFlag('samples', values.samples, 1, 10_000) ?? 5;
    const seed = intFlag('seed', values.seed, 0, 0xffff_ffff) ?? 1;
    if (!values.verify && (values.samples !== undefined || values.seed !== undefined)) {
      throw new UsageError(
        'Expected --verify alongside --samples or --seed for swapless split but received no --verify',
      );
    }
    const source = await readBytes(await resolveModelPath(path!));
    const model = readModel(source);
    const { head, tail, boundary } = splitModel(model, k);
    const dir = resolve(values.out);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new SwapLessIoError(
        `Expected a directory for --out but could not create ${JSON.stringify(dir)}: ${String(err)}`,
        {
          cause: err,
        },
      );
    }
    const stem = `${basename(path!, extname(path!))}.k${k}`;
    const written: { head: Uint8Array | null; tail: Uint8Array | null } = { head: null, tail: null };
    const part = async (m: typeof head, which: 'head' | 'tail') => {
      if (m === null) return null;
      const bytes = writeModel(m);
      written[which] = bytes;
      const file = join(dir, `${stem}.${which}.tflite`);
      await write(file, bytes);
      const g = m.subgraphs[0]!;
      const ioOf = (ts: number[]) =>
        ts.map((t) => ({
          name: g.tensors[t]!.name,
          type: tensorTypeName(g.tensors[t]!.type),
          shape: g.tensors[t]!.shape,
        }));
      // Say up front when a part cannot run on the CPU runtime here (a custom op it cannot resolve, Edge TPU code).
      const run = runnability(m);
      if (!run.cpuRunnable) io.err(`swapless split: warning: the ${which} ${run.reason}`);
      return {
        path: file,
        bytes: bytes.byteLength,
        operators: g.operators.length,
        inputs: ioOf(g.inputs),
        outputs: ioOf(g.outputs),
        runnable: { cpu: run.cpuRunnable, reason: run.reason ?? null },
      };
    };
    const report = {
      model: path!,
      k,
      n: boundary.n,
      head: await part(head, 'head'),
      tail: await part(tail, 'tail'),
      boundary: boundary.tensors.map((t) => ({
        name: t.name,
        type: tensorTypeName(t.type),
        shape: t.shape,
        bytes: t.bytes,
        source: t.source,
        headOutput: t.headOutput ?? null,
        tailInput: t.tailInput ?? null,
      })),
      tailInputs: boundary.tailInputs,
      outputs: boundary.outputs,
      manifest: join(dir, `${stem}.split.json`),
    };
    await write(report.manifest, `${JSON.stringify(report, null, 2)}\n`);
    const verify = values.verify ? verifySplit(model, source, written, boundary, samples, seed) : null;
    // Exit 1 only when the split changed a result: outputs that differ on the accelerated kernels alone (XNNPACK
    // prepares the whole model and not a part, or the reverse) but agree on TFLite's reference kernels are exact.
    const status = verify === null || verify.exact ? 0 : 1;
    if (values.json) {
      io.out(JSON.stringify(verify === null ? report : { ...report, verify }, null, 2));
      return status;
    }
    const bytes = report.boundary.reduce((s, t) => s + t.bytes, 0);
    io.out(
      [
        `Split ${path} at k=${k} of ${boundary.n}:`,
        `  head (ops [0,${k}), Edge TPU part): ${report.head ? `${report.head.path} (${formatBytes(report.head.bytes)})` : 'none (k = 0)'}`,
        `  tail (ops [${k},${boundary.n}), CPU part):     ${report.tail ? `${report.tail.path} (${formatBytes(report.tail.bytes)})` : `none (k = n)`}`,
        `  boundary: ${report.boundary.length} tensor(s), ${formatBytes(bytes)}${report.boundary.map((t) => `\n    ${t.name} ${t.type}[${t.shape.join(',')}]`).join('')}`,
        `  manifest: ${report.manifest}`,
        ...(verify === null ? [] : verifyLines(verify)),
      ].join('\n'),
    );
    return status;
  },
};

/** The kernels the three models ran on: one name when they agree, else each model's. */
function kernelsOf(d: VerifyReport['delegates']): string {
  const name = (list: string[]) => (list.length === 0 ? 'TFLite reference' : list.join(' + '));
  const each = (['whole', 'head', 'tail'] as const).flatMap((m) => {
    const list = d[m];
    return list === null ? [] : [[m, name(list)] as const];
  });
  return each.every(([, k]) => k === each[0]![1])
    ? each[0]![1]
    : each.map(([m, k]) => `${m}: ${k}`).join(', ');
}

/** The text lines of a verification: the verdict, then each output that differed. */
export function verifyLines(v: VerifyReport): string[] {
  const on = `on ${v.samples} seeded random input set${v.samples === 1 ? '' : 's'} (seed ${v.seed}`;
  const kernels = kernelsOf(v.delegates);
  if (v.identical) return [`  verify:   bit-identical to the whole model ${on}; kernels: ${kernels})`];
  const lines = [
    v.exact
      ? `  verify:   bit-identical to the whole model on TFLite's reference kernels (XNNPACK off) ${on}); with the default kernels (${kernels}) the outputs differ: the difference comes from the accelerated kernels, not from the split`
      : `  verify:   NOT bit-identical to the whole model ${on}; kernels: ${kernels})`,
  ];
  for (const o of v.outputs) {
    if (!o.identical) {
      lines.push(
        `    ${o.name}: differs on ${o.differingSamples} sample(s), largest difference ${o.maxAbsDiff}`,
      );
    }
  }
  if (!v.exact) lines.push("    on TFLite's reference kernels (XNNPACK off) the parts differ too");
  return lines;
}
