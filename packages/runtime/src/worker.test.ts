// The CPU-stage worker's hand-off protocol: runs posted while the worker sleeps go as one message with one
// wake-up, its replies to a burst come back as one message, and order and failures stay per run.

import { setTimeout as sleep } from 'node:timers/promises';
import type { TensorArray } from '@swapless/contracts';
import { tinyModel } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import { afterEach, describe, expect, it } from 'vitest';
import { TfliteWorker } from './worker.js';

// int8 [1,16], y = x + x with the output's scale twice the input's: the output equals the input.
const TINY = writeModel(tinyModel({ type: 'int8', shape: [1, 16] }));

let worker: TfliteWorker | null = null;
afterEach(async () => {
  await worker?.terminate();
  worker = null;
});

function input(seed: number): Int8Array {
  return Int8Array.from({ length: 16 }, (_, i) => ((seed * 31 + i * 7) % 200) - 100);
}

type Outcome = { seed: number; error: Error | null; out: TensorArray | null };

describe('TfliteWorker', () => {
  it('runs a burst posted while it sleeps in order, each with its own result, one wake-up for all', async () => {
    worker = new TfliteWorker(0);
    await worker.load('tiny', TINY, { threads: 1 });
    await sleep(50); // asleep now: the burst below is collected and posted at the end of the round
    const realNotify = Atomics.notify;
    let notifies = 0;
    Atomics.notify = ((typedArray: Int32Array, index: number, count?: number) => {
      notifies++;
      return realNotify(typedArray, index, count);
    }) as typeof Atomics.notify;
    const done: Outcome[] = [];
    try {
      await new Promise<void>((resolve) => {
        for (let seed = 0; seed < 40; seed++) {
          worker!.run('tiny', [input(seed)], seed, (s, error, outputs) => {
            done.push({ seed: s, error, out: outputs?.[0] ?? null });
            if (done.length === 40) resolve();
          });
        }
      });
    } finally {
      Atomics.notify = realNotify;
    }
    expect(done.map((d) => d.seed)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    for (const d of done) {
      expect(d.error).toBeNull();
      expect(Array.from(d.out as Int8Array)).toEqual(Array.from(input(d.seed)));
    }
    expect(notifies).toBe(1);
  });

  it('fails only the run whose buffers cannot be posted, the others of its burst complete', async () => {
    worker = new TfliteWorker(0);
    await worker.load('tiny', TINY, { threads: 1 });
    await sleep(50);
    // A shared buffer cannot be transferred: posting it throws.
    const stuck = new SharedArrayBuffer(16) as unknown as ArrayBuffer;
    const done: Outcome[] = [];
    await new Promise<void>((resolve) => {
      for (let seed = 0; seed < 6; seed++) {
        const reuse = seed === 3 ? [stuck] : undefined;
        worker!.run(
          'tiny',
          [input(seed)],
          seed,
          (s, error, outputs) => {
            done.push({ seed: s, error, out: outputs?.[0] ?? null });
            if (done.length === 6) resolve();
          },
          reuse,
        );
      }
    });
    const failed = done.filter((d) => d.error !== null);
    expect(failed.map((d) => d.seed)).toEqual([3]);
    for (const d of done.filter((x) => x.error === null)) {
      expect(Array.from(d.out as Int8Array)).toEqual(Array.from(input(d.seed)));
    }
    // The worker still serves afterwards.
    const next = await worker.runAsync('tiny', [input(99)]);
    expect(Array.from(next.outputs[0] as Int8Array)).toEqual(Array.from(input(99)));
  });
});
