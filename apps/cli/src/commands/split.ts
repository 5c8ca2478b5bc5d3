import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { SwapLessIoError, UsageError } from '@swapless/core';
import { readModel, splitModel, tensorTypeName, writeModel } from '@swapless/tflite';
import { intFlag, parseCommand, positionals } from '../args.js';
import type { Command } from '../command.js';
import { readBytes, resolveModelPath } from '../model-file.js';
import { formatBytes } from '../output.js';

const help = `Usage: swapless split MODEL --at K --out DIR [--json]

Splits a .tflite model at cut point K into two standalone models: ops [0,K) (the part for the Edge TPU)
and ops [K,n) (the part for the CPU). Running the head, then feeding its outputs to the tail, gives outputs
bit-identical to the whole model. See \`swapless inspect MODEL\` for the cut points and their costs.

Writes DIR/<name>.k<K>.head.tflite, DIR/<name>.k<K>.tail.tflite and DIR/<name>.k<K>.split.json (how the
parts connect: for each tail input, which head output or model input feeds it; for each model output, which
part produces it). K = 0 writes no head; K = n writes no tail.

Options:
  --at K       the cut point, 0..n (required)
  --out DIR    output directory, created if missing (required)
  --json       print the paths and the boundary as JSON (docs/cli.md)
  -h, --help   show this help`;

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
    });
    const [path] = positionals('split', pos, ['model']);
    if (values.at === undefined)
      throw new UsageError('Expected --at K (the cut point) for swapless split but received nothing');
    if (values.out === undefined)
      throw new UsageError('Expected --out DIR for swapless split but received nothing');
    const k = intFlag('at', values.at, 0, Number.MAX_SAFE_INTEGER)!;
    const model = readModel(await readBytes(await resolveModelPath(path!)));
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
    const part = async (m: typeof head, which: 'head' | 'tail') => {
      if (m === null) return null;
      const bytes = writeModel(m);
      const file = join(dir, `${stem}.${which}.tflite`);
      await write(file, bytes);
      const g = m.subgraphs[0]!;
      const io = (ts: number[]) =>
        ts.map((t) => ({
          name: g.tensors[t]!.name,
          type: tensorTypeName(g.tensors[t]!.type),
          shape: g.tensors[t]!.shape,
        }));
      return {
        path: file,
        bytes: bytes.byteLength,
        operators: g.operators.length,
        inputs: io(g.inputs),
        outputs: io(g.outputs),
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
    if (values.json) {
      io.out(JSON.stringify(report, null, 2));
      return 0;
    }
    const bytes = report.boundary.reduce((s, t) => s + t.bytes, 0);
    io.out(
      [
        `Split ${path} at k=${k} of ${boundary.n}:`,
        `  head (ops [0,${k}), Edge TPU part): ${report.head ? `${report.head.path} (${formatBytes(report.head.bytes)})` : 'none (k = 0)'}`,
        `  tail (ops [${k},${boundary.n}), CPU part):     ${report.tail ? `${report.tail.path} (${formatBytes(report.tail.bytes)})` : `none (k = n)`}`,
        `  boundary: ${report.boundary.length} tensor(s), ${formatBytes(bytes)}${report.boundary.map((t) => `\n    ${t.name} ${t.type}[${t.shape.join(',')}]`).join('')}`,
        `  manifest: ${report.manifest}`,
      ].join('\n'),
    );
    return 0;
  },
};
