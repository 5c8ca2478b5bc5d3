/**
 * Edge TPU backends. The runtime's TPU stage (one FIFO queue, one call at a time) calls `run` for the head of
 * a request's variant. Heads are loaded per variant with a reference count: a variant in use by any tenant
 * configuration stays loaded, and is disposed when the last configuration using it retires.
 */
import type { TensorArray } from '@swapless/contracts';
import { createInterpreter, type Interpreter, type TensorInfo } from '@swapless/edgetpu';
import type { CallBreakdown, DeviceProfile, ProfileInput } from '@swapless/tpu-emulator';
import { EmulatedDevice, sleepUntil } from '@swapless/tpu-emulator';
import { EmulationPool } from './emulation.js';
import { preparedPart } from './parts.js';
import type { SetVariant } from './sets.js';
import type { EdgeTpuBackendOptions } from './types.js';
import type { Variant } from './variants.js';

/** One head call. */
export interface TpuRun {
  /** Head outputs (null when nothing was computed: timing-only). */
  outputs: TensorArray[] | null;
  startMs: number;
  /** When the device was free again: start + modelled time (emulator), the call's end (real device). */
  deviceEndMs: number;
  /** When the stage ended: the later of `deviceEndMs` and the outputs being ready. */
  endMs: number;
  modelledMs: number | null;
  computedMs: number | null;
  reload: boolean;
  breakdown: CallBreakdown | null;
  tokenBefore: string | null;
  tokenAfter: string | null;
  /** The functional emulator's host computation of the head (null otherwise). */
  emulation: { computeMs: number; waitMs: number; readyMs: number; lagMs: number; returnMs: number } | null;
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
  /**
   * One call; `inputs` are the head's inputs in head input order. `onDeviceFree` is called once, when the device
   * can start the next call (for the emulator its modelled end, possibly before the head's outputs are ready);
   * always before the returned promise settles.
   */
  run(variant: Variant, inputs: readonly TensorArray[], onDeviceFree?: () => void): Promise<TpuRun>;
  /**
   * Estimated ms until the outputs of a call of `variant` started now would be ready, beyond the device's own
   * time (the functional emulator's pool backlog); 0 when outputs come with the device.
   */
  outputsBacklogMs?(variant: Variant): number;
  /** The functional emulator's pool: worker threads and calls queued on it (absent otherwise). */
  readonly emulation?: { readonly workers: number; readonly queued: number } | null;
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

/**
 * The functional emulator's head computation shared by every emulated device of a runtime: one pool of worker
 * threads and one reference count per head, so two devices serving the same head (a tenant moved from one to
 * the other) load it once, and several devices do not multiply the host threads that compute heads.
 */
export class SharedEmulation {
  readonly pool: EmulationPool;
  readonly heads: RefCountedHeads<void>;

  constructor(workers: number, threads: number) {
    this.pool = new EmulationPool(workers, threads);
    this.heads = new RefCountedHeads<void>((_, id) => this.pool.unload(id));
  }

  async close(): Promise<void> {
    this.heads.forget();
    await this.pool.close();
  }
}

/**
 * The calibrated device model in real time. In functional mode the heads' outputs are computed on the host by an
 * {@link EmulationPool}, off the device's timeline: the device is busy for the modelled time only, and a call's
 * stage ends when both the device is done and the outputs are ready (the difference is the emulation lag).
 */
export class EmulatedBackend implements TpuBackend {
  readonly kind = 'emulated' as const;
  readonly functional: boolean;
  readonly profile: DeviceProfile;
  readonly #device: EmulatedDevice;
  readonly #timeScale: number;
  readonly #pool: EmulationPool | null;
  readonly #heads: RefCountedHeads<void>;
  /** The pool is another's (several devices share one): closing this device leaves it to its owner. */
  readonly #shared: boolean;

  constructor(
    profile: ProfileInput,
    options: {
      functional: boolean;
      timeScale?: number;
      seed?: number;
      threads: number;
      workers?: number;
      shared?: SharedEmulation;
    },
  ) {
    const deviceOptions: { timeScale?: number; seed?: number } = {};
    if (options.timeScale !== undefined) deviceOptions.timeScale = options.timeScale;
    if (options.seed !== undefined) deviceOptions.seed = options.seed;
    this.#device = new EmulatedDevice(profile, deviceOptions);
    this.profile = this.#device.profile;
    this.functional = options.functional;
    this.#timeScale = options.timeScale ?? 1;
    const shared = this.functional ? options.shared : undefined;
    this.#shared = shared !== undefined;
    this.#pool =
      shared?.pool ?? (this.functional ? new EmulationPool(options.workers ?? 1, options.threads) : null);
    this.#heads = shared?.heads ?? new RefCountedHeads<void>((_, id) => this.#pool?.unload(id));
  }

  get token(): string | null {
    return this.#device.token;
  }

  get emulation(): { workers: number; queued: number } | null {
    const pool = this.#pool;
    return pool === null ? null : { workers: pool.size, queued: pool.queued };
  }

  outputsBacklogMs(variant: Variant): number {
    return this.#pool === null ? 0 : this.#pool.backlogMs(variant.id);
  }

  async acquire(variant: Variant): Promise<void> {
    const pool = this.#pool;
    if (pool === null || variant.head === null) return;
    const head = variant.head;
    await this.#heads.acquire(variant.id, () => pool.load(variant.id, preparedPart(head)));
  }

  release(variant: Variant): void {
    this.#heads.release(variant.id);
  }

  async run(variant: Variant, inputs: readonly TensorArray[], onDeviceFree?: () => void): Promise<TpuRun> {
    const startMs = performance.now();
    const computing = this.#pool === null ? null : this.#pool.compute(variant.id, inputs);
    // Settled below; this keeps a failure from being reported as unhandled while the device runs.
    computing?.catch(() => undefined);
    let deviceEndMs: number;
    let r: Awaited<ReturnType<EmulatedDevice['invoke']>>;
    try {
      r = await this.#device.invoke(variant.report!, {
        model: (variant as Partial<SetVariant>).setModel ?? 0,
      });
      // The stage started here, before the device's own queue: the device is never free before `startMs` + the
      // modelled time.
      const due = startMs + r.breakdown.totalMs * this.#timeScale;
      if (performance.now() < due) await sleepUntil(due);
    } finally {
      deviceEndMs = performance.now();
      onDeviceFree?.();
    }
    const c = computing === null ? null : await computing;
    const endMs = c === null ? deviceEndMs : Math.max(deviceEndMs, c.readyMs);
    return {
      outputs: c?.outputs ?? null,
      startMs,
      deviceEndMs,
      endMs,
      modelledMs: r.breakdown.totalMs,
      computedMs: c?.computeMs ?? null,
      reload: r.reloaded,
      breakdown: r.breakdown,
      tokenBefore: r.tokenBefore,
      tokenAfter: r.tokenAfter,
      emulation:
        c === null
          ? null
          : {
              computeMs: c.computeMs,
              waitMs: c.waitMs,
              readyMs: c.readyMs,
              lagMs: Math.max(0, c.readyMs - deviceEndMs),
              returnMs: c.returnMs,
            },
    };
  }

  async close(): Promise<void> {
    if (this.#shared) return;
    this.#heads.forget();
    await this.#pool?.close();
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
        compile === undefined ? preparedPart(head) : await compile(head, { tenant, k: variant.k, variant });
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

  async run(variant: Variant, inputs: readonly TensorArray[], onDeviceFree?: () => void): Promise<TpuRun> {
    let outputs: TensorArray[];
    let startMs: number;
    let endMs: number;
    try {
      const it = await this.#heads.get(variant.id);
      startMs = performance.now();
      inputs.forEach((a, i) => {
        it.setInput(i, a);
      });
      await it.invokeAsync();
      outputs = it.outputs.map((_, i) => it.getOutput(i));
      endMs = performance.now();
    } finally {
      onDeviceFree?.();
    }
    return {
      outputs,
      startMs,
      deviceEndMs: endMs,
      endMs,
      modelledMs: null,
      computedMs: endMs - startMs,
      reload: false,
      breakdown: null,
      tokenBefore: null,
      tokenAfter: null,
      emulation: null,
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
