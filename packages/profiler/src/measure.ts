/**
 * The timing loop. One interpreter per (part, thread count), all thread counts of a part alive together so
 * their invokes can be interleaved; disposed as soon as the part is done (a ResNet-50 part with its XNNPACK
 * packed weights is tens of MB).
 */
import {
  createInterpreter,
  type Interpreter,
  type KernelsName,
  type PreparedModel,
  prepareModel,
  seededInputs,
} from '@swapless/edgetpu';

/** Creates an interpreter; injectable so tests can count creations (a cache hit must create none). */
export type InterpreterFactory = (bytes: Uint8Array, threads: number) => Interpreter;

/**
 * Parts prepared by {@link defaultInterpreterFactory}, by the identity of their bytes: {@link timePart} creates one
 * interpreter per thread count from the same array. Weak, so a part is forgotten with its bytes.
 */
const prepared = new WeakMap<Uint8Array, PreparedModel>();

/**
 * The factory SwapLess runs its CPU part with: XNNPACK on, `threads` for builtin kernels and XNNPACK, uint8 compute
 * rewritten to int8 (the defaults of `createInterpreter`). It is given the parts `profileModel` wrote from a model
 * it verified, so they are trusted (`prepareModel`'s `verify: false`: parsed, not verified again), and each part is
 * prepared, i.e. parsed and rewritten, once for all its thread counts (the bytes must not change in between).
 */
export const defaultInterpreterFactory: InterpreterFactory = (bytes, threads) => {
  let part = prepared.get(bytes);
  if (part === undefined) {
    part = prepareModel(bytes, { verify: false });
    prepared.set(bytes, part);
  }
  return createInterpreter(part, { threads, xnnpack: true, delegate: 'cpu' });
};

/** Arguments of {@link timePart}. */
export interface TimePartOptions {
  bytes: Uint8Array;
  threads: readonly number[];
  warmup: number;
  repetitions: number;
  /** Timed invokes in a row per thread count before switching to the next one. */
  blockSize: number;
  seed: number;
  factory: InterpreterFactory;
  /** Called once per thread count after its last sample. */
  onThreadsDone?: (threads: number) => void;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What {@link timePart} measured: one sample array per thread count, and what ran the part. */
export interface TimedPart {
  /** Per thread count (in `threads` order): the samples in ms, chronological. */
  samples: number[][];
  /** `backend.kernels` of the part's interpreters. */
  kernels: KernelsName;
  /** True when the part ran as its int8 rewrite. */
  int8: boolean;
}

/**
 * Measures one part at every thread count; returns one sample array (ms, chronological) per thread count.
 *
 * Interleaving is by blocks: block b runs, for each thread count in turn (starting at b mod T, so none is
 * always first), one untimed lead-in invoke and then up to `blockSize` timed invokes in a row. Blocks, not
 * single invokes, because switching interpreters on every invoke measures a state no server is in: the thread
 * pool of the multi-threaded interpreter falls asleep during the other's invoke and pays a wake-up, while its
 * spinning workers slow the other (on a 2-core x86-64 machine, per-invoke alternation put the
 * 2-thread median of face_detection_short_range 20 % higher and its p90 up to 30× higher). The lead-in invoke
 * absorbs the switch; blocks still alternate often enough that slow drift in machine load hits every thread
 * count alike.
 *
 * Each timed region is exactly one synchronous `invoke()` between two `process.hrtime.bigint()` readings:
 * what the runtime's CPU worker pays per request, N-API round trip included (a few µs), without the
 * input/output copies (they depend on the boundary bytes, reported per cut). The event loop gets a turn
 * between blocks (never inside a timed region) so a long profile does not starve timers or finalizers.
 */
export async function timePart(o: TimePartOptions): Promise<TimedPart> {
  const interpreters: Interpreter[] = [];
  try {
    for (const t of o.threads) interpreters.push(o.factory(o.bytes, t));
    const backend = interpreters[0]!.backend;
    for (const it of interpreters) {
      // Same seed per part for every thread count: all configurations see identical data. Timing of int8 and
      // float kernels does not depend on the values (barring denormals, which [−1, 1) floats avoid), so seeded
      // data is representative while keeping runs reproducible. A tensor of a type no typed array carries
      // (strings) keeps its zeros.
      seededInputs(it.inputs, o.seed).forEach((data, i) => {
        if (data !== null) it.setInput(i, data);
      });
      // XNNPACK packs weights and sizes its workspace on the first invoke; caches settle on the next ones.
      for (let w = 0; w < o.warmup; w++) it.invoke();
      await yieldToEventLoop();
    }
    const count = interpreters.length;
    const samples = interpreters.map(() => new Array<number>(o.repetitions));
    const blocks = Math.ceil(o.repetitions / o.blockSize);
    for (let b = 0; b < blocks; b++) {
      const first = b * o.blockSize;
      const last = Math.min(o.repetitions, first + o.blockSize);
      for (let j = 0; j < count; j++) {
        const idx = (b + j) % count;
        const it = interpreters[idx]!;
        const out = samples[idx]!;
        it.invoke(); // lead-in: absorbs the switch from the previous interpreter
        for (let r = first; r < last; r++) {
          const start = process.hrtime.bigint();
          it.invoke();
          const end = process.hrtime.bigint();
          out[r] = Number(end - start) / 1e6;
        }
      }
      await yieldToEventLoop();
    }
    for (const it of interpreters.splice(0)) it.dispose();
    for (const t of o.threads) o.onThreadsDone?.(t);
    return { samples, kernels: backend.kernels, int8: backend.int8 !== undefined };
  } finally {
    for (const it of interpreters) it.dispose();
  }
}
