/**
 * Edge TPU backends. The runtime's TPU stage (one FIFO queue, one call at a time) calls `run` for the head of
 * a request's variant. Heads are loaded per variant with a reference count: a variant in use by any tenant
 * configuration stays loaded, and is disposed when the last configuration using it retires.
 */
import { createInterpreter, type Interpreter, type TensorArray, type TensorInfo } from '@swapless/edgetpu';
import type { CallBreakdown, DeviceProfile, ProfileInput } from '@swapless/tpu-emulator';
import { EmulatedDevice, sleepUntil } from '@swapless/tpu-emulator';
import { preparedPart } from './parts.js';
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
  /**
   * Caching token the device holds now (the emulator's token state); `undefined` when the backend cannot know it
   * (the real device: libedgetpu does not expose it).
   */
  readonly token: string | null | undefined;
  /** Loads the head of `variant` (reference counted). */
  acquire(variant: Variant, tenant: string): Promise<void>;
  /** Drops one reference; the head is disposed at zero. */
  release(variant: Variant): void;
  /** One call; `inputs` are the head's inputs in head input order. */
  run(variant: Variant, inputs: readonly TensorArray[]): Promise<TpuRun>;
  /**
   * Inputs and outputs of a loaded head, as its interpreter sees them (the real device only: a compiled model
   * has no CPU interpreter to ask).
   */
  describe?(variant: Variant): Promise<{ inputs: readonly TensorInfo[]; outputs: readonly TensorInfo[] }>;
  close(): Promise<void>;
}

interface Ref<T> {
  count: number;
  ready: Promise<T>;
}

/**
 * Loaded heads shared by every request and configuration that uses the same variant: the first acquire loads,
 * later ones wait for the same load, the last release frees. A failed load is forgotten so a retry loads again.
 */
class RefCountedHeads<T> {
  readonly #refs = new Map<string, Ref<T>>();

  constructor(readonly free: (value: T, id: string) => void) {}

  async acquire(id: string, load: () => Promise<T>): Promise<void> {
    const ref = this.#refs.get(id);
    if (ref !== undefined) {
      ref.count++;
      await ref.ready;
      return;
    }
    const fresh: Ref<T> = { count: 1, ready: load() };
    this.#refs.set(id, fresh);
    try {
      await fresh.ready;
    } catch (error) {
      if (this.#refs.get(id) === fresh) this.#refs.delete(id);
      throw error;
    }
  }

  release(id: string): void {
    const ref = this.#refs.get(id);
    if (ref === undefined || --ref.count > 0) return;
    this.#refs.delete(id);
    void ref.ready.then((v) => this.free(v, id)).catch(() => undefined);
  }

  /** The loaded value of `id` (waits for a load in progress); throws when it was never acquired. */
  get(id: string): Promise<T> {
    const ref = this.#refs.get(id);
    if (ref === undefined) throw new Error(`head of ${id} is not loaded`);
    return ref.ready;
  }

  /** Forgets every entry without freeing (the owner frees everything at once, e.g. by ending a worker). */
  forget(): void {
    this.#refs.clear();
  }

  /** Forgets every entry and frees what loaded; returns when all are freed. */
  async clear(): Promise<void> {
    const refs = [...this.#refs.entries()];
    this.#refs.clear();
    await Promise.all(refs.map(([id, r]) => r.ready.then((v) => this.free(v, id)).catch(() => undefined)));
  }
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
  readonly #heads = new RefCountedHeads<void>(
    (_, id) => void this.#worker?.unload(id).catch(() => undefined),
  );

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

  get token(): string | null {
    return this.#device.token;
  }

  #headWorker(): TfliteWorker {
    this.#worker ??= new TfliteWorker(-1);
    return this.#worker;
  }

  async acquire(variant: Variant): Promise<void> {
    if (!this.functional || variant.head === null) return;
    const head = variant.head;
    await this.#heads.acquire(variant.id, () =>
      this.#headWorker()
        .load(variant.id, preparedPart(head), { threads: this.#threads })
        .then(() => undefined),
    );
  }

  release(variant: Variant): void {
    this.#heads.release(variant.id);
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
    // The stage started here, before the device's own queue: it must not end before `startMs` + the modelled
    // time (the device is never free early).
    const due = startMs + r.breakdown.totalMs * this.#timeScale;
    if (performance.now() < due) await sleepUntil(due);
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
    this.#heads.forget();
    await this.#worker?.terminate();
    this.#worker = null;
  }
}

/** The real Edge TPU: heads run on interpreters with the libedgetpu delegate (invokeAsync, libuv pool). */
export class EdgeTpuBackend implements TpuBackend {
  readonly kind = 'edgetpu' as const;
  readonly functional = true;
  readonly profile = null;
  readonly token = undefined;
  readonly #options: EdgeTpuBackendOptions;
  readonly #heads = new RefCountedHeads<Interpreter>((it) => it.dispose());

  constructor(options: EdgeTpuBackendOptions) {
    this.#options = options;
  }

  async acquire(variant: Variant, tenant: string): Promise<void> {
    if (variant.head === null) return;
    const head = variant.head;
    await this.#heads.acquire(variant.id, async () => {
      // A compiled model is already what the device runs: no head compiler.
      const compile = this.#options.compileHead && !variant.compiled ? this.#options.compileHead : undefined;
      // The head as split (or a compiled model as given) is the runtime's own, prepared once; what a head compiler
      // returns is not, and is verified like any other file.
      const model =
        compile === undefined ? preparedPart(head) : await compile(head, { tenant, k: variant.k });
      const edgetpu: { library?: string; device?: string; options?: Record<string, string> } = {};
      if (this.#options.library !== undefined) edgetpu.library = this.#options.library;
      if (this.#options.device !== undefined) edgetpu.device = this.#options.device;
      if (this.#options.options !== undefined) edgetpu.options = this.#options.options;
      return createInterpreter(model, { threads: 1, delegate: 'edgetpu', edgetpu });
    });
  }

  release(variant: Variant): void {
    this.#heads.release(variant.id);
  }

  async run(variant: Variant, inputs: readonly TensorArray[]): Promise<TpuRun> {
    const it = await this.#heads.get(variant.id);
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

  async describe(
    variant: Variant,
  ): Promise<{ inputs: readonly TensorInfo[]; outputs: readonly TensorInfo[] }> {
    const it = await this.#heads.get(variant.id);
    return { inputs: it.inputs, outputs: it.outputs };
  }

  async close(): Promise<void> {
    await this.#heads.clear();
  }
}
