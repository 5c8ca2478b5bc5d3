// Test-only helpers (not exported by the package): small models and hand-made profile documents.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterpreter, type Interpreter } from '@swapless/edgetpu';
import { buildTestNet, GraphBuilder } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import type { InterpreterFactory } from './measure.js';
import { summarize } from './stats.js';
import type { CutProfile, PartProfile, Profile } from './types.js';

/** The real float face model shipped by @mediapipe/face_detection (n = 90, no Edge-TPU-mappable prefix). */
export const FACE_MODEL = join(
  import.meta.dirname,
  '../../../node_modules/@mediapipe/face_detection/face_detection_short_range.tflite',
);

/** buildTestNet as bytes: int8, n = 10, all mappable. */
export const testNetBytes = (): Uint8Array => writeModel(buildTestNet(3));

/**
 * An int8 GraphBuilder net whose Edge-TPU-mappable prefix ends before the end: a HARD_SWISH (not in the
 * Edge TPU's op table) sits in the middle, so `auto` must stay in [0, m] with m < n.
 */
export function partlyMappableBytes(): Uint8Array {
  const b = new GraphBuilder({ seed: 5, name: 'partly-mappable' });
  let x = b.input('input', [1, 24, 24, 3]);
  x = b.conv2d(x, { filters: 8, kernel: 3, stride: 2, activation: 'relu6' });
  for (let i = 0; i < 3; i++) {
    const y = b.depthwiseConv2d(x, { kernel: 3, activation: 'relu6' });
    x = b.add(x, b.conv2d(y, { filters: 8, kernel: 1 }));
  }
  x = b.hardSwish(x);
  x = b.conv2d(x, { filters: 16, kernel: 3, stride: 2, activation: 'relu' });
  b.output(b.softmax(b.fullyConnected(b.mean(x, [1, 2]), { units: 5 })));
  return writeModel(b.build());
}

/** A factory that counts creations and disposals around the real one. */
export function countingFactory(): {
  factory: InterpreterFactory;
  created: number[];
  disposed: () => number;
} {
  const created: number[] = [];
  const all: Interpreter[] = [];
  return {
    factory: (bytes, threads) => {
      created.push(threads);
      const it = createInterpreter(bytes, { threads, xnnpack: true });
      all.push(it);
      return it;
    },
    created,
    disposed: () => all.filter((i) => i.disposed).length,
  };
}

/** A fresh temporary directory, and its removal. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'swapless-profiler-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A valid hand-made profile: `medians[k][t]` gives the suffix median at cut k (index into `ks`) and thread
 * index t; every sample is that median ± `spread`.
 */
export function syntheticProfile(
  ks: number[],
  n: number,
  threads: number[],
  suffixMedian: (k: number, threads: number) => number,
  spread = 0.01,
): Profile {
  const repetitions = 5;
  const part = (range: [number, number], median: (t: number) => number): PartProfile => ({
    ops: range,
    bytes: 1000,
    kernels: 'xnnpack',
    int8: false,
    measurements: threads.map((t) =>
      summarize(
        t,
        Array.from({ length: repetitions }, (_, i) => median(t) + spread * (i - 2)),
      ),
    ),
  });
  const cuts: CutProfile[] = ks.map((k) => ({
    k,
    edgetpuMappable: true,
    boundaryTensors: 1,
    boundaryBytes: 100,
    transferBytes: k === 0 ? 0 : 100,
    prefixMacs: k * 10,
    suffixMacs: (n - k) * 10,
    prefix: k === 0 ? null : part([0, k], (t) => (k * 1) / t + 1),
    suffix: k === n ? null : part([k, n], (t) => suffixMedian(k, t)),
  }));
  return {
    schemaVersion: 2,
    kind: 'swapless-profile',
    createdAt: '2025-01-01T00:00:00.000Z',
    durationMs: 1,
    model: { sha256: 'a'.repeat(64), bytes: 1234, n, edgetpuPrefix: n, name: 'synthetic' },
    runtime: { tfliteVersion: '2.9.0', xnnpack: true, uint8: 'int8', int8Rewrite: 1 },
    host: { cpuModel: 'test cpu', cores: 2, platform: 'linux', arch: 'x64' },
    settings: {
      cuts: 'list',
      threads,
      warmup: 1,
      repetitions,
      blockSize: 5,
      seed: 0,
      timer: 'hrtime-invoke',
    },
    cuts,
  };
}
