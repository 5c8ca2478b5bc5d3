/**
 * The timing loop. One interpreter per (part, thread count), all thread counts of a part alive together so
 * their invokes can be interleaved; disposed as soon as the part is done (a ResNet-50 part with its XNNPACK
 * packed weights is tens of MB).
 */
import {
  createInterpreter,
  type Interpreter,
  type KernelsName,
  type TensorArray,
  type TensorInfo,
} from '@swapless/edgetpu';
import { SeededRandom } from '@swapless/tflite';

/** Creates an interpreter; injectable so tests can count creations (a cache hit must create none). */
export type InterpreterFactory = (bytes: Uint8Array, threads: number) => Interpreter;

/**
 * The factory SwapLess runs its CPU part with: XNNPACK on, `threads` for builtin kernels and XNNPACK, the model
 * verified, uint8 compute rewritten to int8 (the defaults of `createInterpreter`).
 */
export const defaultInterpreterFactory: InterpreterFactory = (bytes, threads) =>
  createInterpreter(bytes, { threads, xnnpack: true, delegate: 'cpu' });

/** Half-precision bits of a float in the normal range (no rounding subtleties needed for test data). */
function halfBits(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return sign;
  return sign | (exp << 10) | ((u >>> 13) & 0x3ff);
}

/**
 * Deterministic input data of the tensor's own type. Timing of int8 and float kernels does not depend on
 * the values (barring denormals, which [−1, 1) floats avoid), so seeded uniform data is representative while
 * keeping runs reproducible. Integer tensors get the full int8/uint8 range; wider integers small
 * non-negative values (they are often indices or shapes).
 */
export function inputData(info: TensorInfo, rng: SeededRandom): TensorArray {
  const type = info.arrayType;
  switch (type) {
    case 'Float32Array':
    case 'Float64Array': {
      const a =
        type === 'Float32Array' ? new Float32Array(info.byteSize / 4) : new Float64Array(info.byteSize / 8);
      for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-1, 1);
      return a;
    }
    case 'Int8Array': {
      const a = new Int8Array(info.byteSize);
      for (let i = 0; i < a.length; i++) a[i] = rng.int(-128, 127);
      return a;
    }
    case 'Uint8Array': {
      const a = new Uint8Array(info.byteSize);
      for (let i = 0; i < a.length; i++) a[i] = rng.int(0, 255);
      return a;
    }
    case 'Uint16Array': {
      // float16 travels as raw bits.
      const a = new Uint16Array(info.byteSize / 2);
      for (let i = 0; i < a.length; i++) a[i] = halfBits(rng.uniform(-1, 1));
      return a;
    }
    case 'Int16Array':
    case 'Int32Array':
    case 'Uint32Array': {
      const Ctor = type === 'Int16Array' ? Int16Array : type === 'Int32Array' ? Int32Array : Uint32Array;
      const a = new Ctor(info.byteSize / Ctor.BYTES_PER_ELEMENT);
      for (let i = 0; i < a.length; i++) a[i] = rng.int(0, 7);
      return a;
    }
    case 'BigInt64Array':
    case 'BigUint64Array': {
      const a =
        type === 'BigInt64Array'
          ? new BigInt64Array(info.byteSize / 8)
          : new BigUint64Array(info.byteSize / 8);
      for (let i = 0; i < a.length; i++) a[i] = BigInt(rng.int(0, 7));
      return a;
    }
    default:
      // Strings and other unexchangeable types: leave the tensor as allocated (zeros).
      return new Uint8Array(0);
  }
}

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
 * spinning workers slow the other (on the 2-core machine of FACTS.md, per-invoke alternation put the
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
      // Same seed per part for every thread count: all configurations see identical data.
      const rng = new SeededRandom(o.seed);
      it.inputs.forEach((info, i) => {
        const data = inputData(info, rng);
        if (data.byteLength === info.byteSize) it.setInput(i, data);
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
