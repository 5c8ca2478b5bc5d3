import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SwapLessIoError, UsageError } from '@swapless/core';
import {
  assertZooModelName,
  generateZoo,
  ZOO_MODEL_NAMES,
  ZOO_MODELS,
  type ZooModelName,
} from '@swapless/zoo';
import { intFlag, parseCommand } from '../args.js';
import type { Command } from '../command.js';
import { formatBytes, formatCount, table } from '../output.js';
import { progressBar, stderrSink } from '../progress.js';

const help = `Usage: swapless zoo [--models a,b,…] [--out DIR] [--seed S] [--json]

Generates architecture-faithful, fully int8-quantized .tflite models (the shapes of Coral's zoo models, with
deterministic random weights: latency depends on shapes, not on weight values). Files are cached under
$SWAPLESS_CACHE_DIR/zoo (default ~/.cache/swapless/zoo) by name, generator version and seed; a second run reuses them.

Models: ${ZOO_MODEL_NAMES.join(', ')}

Options:
  --models LIST  comma-separated names (default: all ${ZOO_MODEL_NAMES.length})
  --out DIR      also copy the files to DIR as <name>.tflite
  --seed S       weight seed (default 0); the same seed gives byte-identical files
  --json         print the list as JSON (docs/cli.md)
  -h, --help     show this help`;

export const zooCommand: Command = {
  name: 'zoo',
  summary: 'generate the int8 model zoo (MobileNet, Inception, ResNet, VGG, EfficientNet-EdgeTPU…)',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommand('zoo', argv, {
      models: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
    });
    if (positionals.length > 0) {
      throw new UsageError(
        `Expected no positional arguments for swapless zoo but received ${positionals.join(' ')} (use --models a,b)`,
      );
    }
    const seed = intFlag('seed', values.seed, 0, 2 ** 31 - 1) ?? 0;
    let names: ZooModelName[] = [...ZOO_MODEL_NAMES];
    if (values.models !== undefined) {
      const list = values.models
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      try {
        names = list.map((n) => {
          assertZooModelName(n);
          return n;
        });
      } catch (err) {
        throw new UsageError(`${(err as Error).message} (--models)`, { cause: err });
      }
      if (names.length === 0)
        throw new UsageError('Expected at least one model name for --models but received none');
    }
    const bar = progressBar(stderrSink);
    const started = performance.now();
    let models: Awaited<ReturnType<typeof generateZoo>>;
    try {
      models = await generateZoo(names, { seed, onProgress: bar });
    } finally {
      bar.done();
    }
    const seconds = (performance.now() - started) / 1000;
    const out = values.out === undefined ? undefined : resolve(values.out);
    const rows = [];
    for (const m of models) {
      let path = m.path;
      if (out !== undefined) {
        path = join(out, `${m.name}.tflite`);
        try {
          await mkdir(out, { recursive: true });
          await copyFile(m.path, path);
        } catch (err) {
          throw new SwapLessIoError(
            `Expected a writable directory for --out but could not write ${JSON.stringify(path)}: ${(err as Error).message}`,
            {
              cause: err,
              details: { path },
            },
          );
        }
      }
      const info = ZOO_MODELS[m.name];
      rows.push({
        name: m.name,
        path,
        input: info.inputShape,
        classes: info.classes,
        params: m.params,
        macs: m.macs,
        bytes: m.bytes,
        sha256: m.sha256,
        cached: m.cached,
      });
    }
    if (values.json) {
      io.out(JSON.stringify({ seed, seconds, models: rows }, null, 2));
      return 0;
    }
    io.out(
      [
        table(
          ['model', 'input', 'params', 'MACs', 'size', 'cached', 'path'],
          rows.map((r) => [
            r.name,
            r.input.join('x'),
            r.params,
            r.macs,
            formatBytes(r.bytes),
            r.cached ? 'yes' : 'no',
            r.path,
          ]),
        ),
        '',
        `${rows.length} model(s), ${formatCount(rows.reduce((s, r) => s + r.params, 0))} params, seed ${seed}, ${seconds.toFixed(1)} s`,
      ].join('\n'),
    );
    return 0;
  },
};
