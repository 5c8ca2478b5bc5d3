/**
 * Edge TPU backends. The runtime's TPU stage (one FIFO queue, one call at a time) calls `run` for the head of
 * a request's variant. Heads are loaded per variant with a reference count: a variant in use by any tenant
 * configuration stays loaded, and is disposed when the last configuration using it retires.
 */
import { createInterpreter, type Interpreter, type TensorArray } from '@swapless/edgetpu';
import type { CallBreakdown, DeviceProfile, ProfileInput } from '@swapless/tpu-emulator';
import { EmulatedDevice } from '@swapless/tpu-emulator';
import type { EdgeTpuBackendOptions } from './types.js';
import type { Variant } from './variants.js';
import { TfliteWorker } from './worker.js';

/** One head call. */
export interface TpuRun {
  /** Head outputs (null when nothing was computed: timing-only). */
  outputs: TensorArray[] | null;
  startMs: number;
  endMs: number;
  modelledMs: number | null;
  computedMs: number | null;
  reload: boolean;
  breakdown: CallBreakdown | null;
  tokenBefore: string | null;
  tokenAfter: string | null;
}

/** What the TPU stage needs from a backend. */
export interface TpuBackend {
  readonly kind: 'emulated' | 'edgetpu';
  /** True when head outputs are computed. */
  readonly functional: boolean;
  /** The emulator's profile (null for the real device). */
  readonly profile: DeviceProfile | null;
  /** Loads the head of `variant` (reference counted). */
  acquire(variant: Variant, tenant: string): Promise<void>;
  /** Drops one reference; the head is disposed at zero. */
  release(variant: Variant): void;
  /** One call; `inputs` are the head's inputs in head input order. */
  run(variant: Variant, inputs: readonly TensorArray[]): Promise<TpuRun>;
  close(): Promise<void>;
}

interface Ref<T> {
  count: number;
  ready: Promise<T>;
}

/** Resolves at `performance.now() ≥ due`: a timer for whole ms, then event-loop turns (setImmediate) for the rest. */
function untilMs(due: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const left = due - performance.now();
      if (left <= 0) resolve();
      else if (left > 1.5) setTimeout(check, left - 1);
      else setImmediate(check);
    };
    check();
  });
}

/** The calibrated device model in real time, optionally computing heads on the CPU (functional mode). */
export class EmulatedBackend implements TpuBackend {
  readonly kind = 'emulated' as const;
  readonly functional: boolean;
  readonly profile: DeviceProfile;
  readonly #device: EmulatedDevice;
  readonly #threads: number;
  readonly #timeScale: number;
  #worker: TfliteWorker | null = null;
  readonly #heads = new Map<string, Ref<void>>();

  constructor(
    profile: ProfileInput,
    options: { functional: boolean; timeScale?: number; seed?: number; threads: number },
  ) {
    const deviceOptions: { timeScale?: number; seed?: number } = {};
    if (options.timeScale !== undefined) deviceOptions.timeScale = options.timeScale;
    if (options.seed !== undefined) deviceOptions.seed = options.seed;
    this.#device = new EmulatedDevice(profile, deviceOptions);
    this.profile = this.#device.profile;
    this.functional = options.functional;
    this.#threads = options.threads;
    this.#timeScale = options.timeScale ?? 1;
  }

  #headWorker(): TfliteWorker {
    this.#worker ??= new TfliteWorker(-1);
    return this.#worker;
  }

  async acquire(variant: Variant): Promise<void> {
    if (!this.functional || variant.head === null) return;
    const ref = this.#heads.get(variant.id);
    if (ref !== undefined) {
      ref.count++;
      return ref.ready;
    }
    const head = variant.head;
    const ready = this.#headWorker()
      .load(variant.id, head, { threads: this.#threads })
      .then(() => undefined);
    const fresh: Ref<void> = { count: 1, ready };
    this.#heads.set(variant.id, fresh);
    try {
      await ready;
    } catch (error) {
      if (this.#heads.get(variant.id) === fresh) this.#heads.delete(variant.id);
      throw error;
    }
  }

  release(variant: Variant): void {
    const ref = this.#heads.get(variant.id);
    if (ref === undefined || --ref.count > 0) return;
    this.#heads.delete(variant.id);
    void this.#worker?.unload(variant.id).catch(() => undefined);
  }

  async run(variant: Variant, inputs: readonly TensorArray[]): Promise<TpuRun> {
    const startMs = performance.now();
    const timed = this.#device.invoke(variant.report!);
    let computed: Promise<{ outputs: TensorArray[]; ms: number } | null> = Promise.resolve(null);
    if (this.functional) {
      computed = this.#headWorker()
        .runAsync(variant.id, inputs)
        .then((r) => ({ outputs: r.outputs, ms: r.endMs - r.startMs }));
    }
    // Both must settle before the device is free again, even if one fails.
    const [t, c] = await Promise.allSettled([timed, computed]);
    if (t.status === 'rejected') throw t.reason;
    if (c.status === 'rejected') throw c.reason;
    const r = t.value;
    // The device's timer (setTimeout, whole-ms libuv clock cached per loop turn) can fire up to ~1 ms before the
    // modelled time: the stage must not end before it (the device is never free early).
    const due = startMs + r.breakdown.totalMs * this.#timeScale;
    if (performance.now() < due) await untilMs(due);
    return {
      outputs: c.value?.outputs ?? null,
      startMs,
      endMs: performance.now(),
      modelledMs: r.breakdown.totalMs,
      computedMs: c.value?.ms ?? null,
      reload: r.reloaded,
      breakdown: r.breakdown,
      tokenBefore: r.tokenBefore,
      tokenAfter: r.tokenAfter,
    };
  }

  async close(): Promise<void> {
    this.#heads.clear();
    await this.#worker?.terminate();
    this.#worker = null;
  }
}

/** The real Edge TPU: heads run on interpreters with the libedgetpu delegate (invokeAsync, libuv pool). */
export class EdgeTpuBackend implements TpuBackend {
  readonly kind = 'edgetpu' as const;
  readonly functional = true;
  readonly profile = null;
  readonly #options: EdgeTpuBackendOptions;
  readonly #heads = new Map<string, Ref<Interpreter>>();

  constructor(options: EdgeTpuBackendOptions) {
    this.#options = options;
  }

  async acquire(variant: Variant, tenant: string): Promise<void> {
    if (variant.head === null) return;
    const ref = this.#heads.get(variant.id);
    if (ref !== undefined) {
      ref.count++;
      await ref.ready;
      return;
    }
    const head = variant.head;
    const ready = (async () => {
      const bytes = this.#options.compileHead
        ? await this.#options.compileHead(head, { tenant, k: variant.k })
        : head;
      const edgetpu: { library?: string; device?: string; options?: Record<string, string> } = {};
      if (this.#options.library !== undefined) edgetpu.library = this.#options.library;
      if (this.#options.device !== undefined) edgetpu.device = this.#options.device;
      if (this.#options.options !== undefined) edgetpu.options = this.#options.options;
      return createInterpreter(bytes, { threads: 1, delegate: 'edgetpu', edgetpu });
    })();
    const fresh: Ref<Interpreter> = { count: 1, ready };
    this.#heads.set(variant.id, fresh);
    try {
      await ready;
    } catch (error) {
      if (this.#heads.get(variant.id) === fresh) this.#heads.delete(variant.id);
      throw error;
    }
  }

  release(variant: Variant): void {
    const ref = this.#heads.get(variant.id);
    if (ref === undefined || --ref.count > 0) return;
    this.#heads.delete(variant.id);
    void ref.ready.then((it) => it.dispose()).catch(() => undefined);
  }

  async run(variant: Variant, inputs: readonly TensorArray[]): Promise<TpuRun> {
    const ref = this.#heads.get(variant.id);
    if (ref === undefined) throw new Error(`head of ${variant.id} is not loaded`);
    const it = await ref.ready;
    const startMs = performance.now();
    inputs.forEach((a, i) => {
      it.setInput(i, a);
    });
    await it.invokeAsync();
    const outputs = it.outputs.map((_, i) => it.getOutput(i));
    const endMs = performance.now();
    return {
      outputs,
      startMs,
      endMs,
      modelledMs: null,
      computedMs: endMs - startMs,
      reload: false,
      breakdown: null,
      tokenBefore: null,
      tokenAfter: null,
    };
  }

  async close(): Promise<void> {
    const refs = [...this.#heads.values()];
    this.#heads.clear();
    await Promise.all(refs.map((r) => r.ready.then((it) => it.dispose()).catch(() => undefined)));
  }
}
