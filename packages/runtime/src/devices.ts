/**
 * The Edge TPUs of one runtime: each device has its own FIFO queue, its own backend (an emulated device with its
 * own timeline and caching-token state, or one libedgetpu delegate per device on the real path) and its own
 * counters. Requests of one device never wait for another device; the CPU cores are shared by every tenant.
 */
import { expected, InvalidArgumentError, positiveInt } from '@swapless/core';
import type { ProfileInput } from '@swapless/tpu-emulator';
import { EdgeTpuBackend, EmulatedBackend, SharedEmulation, type TpuBackend } from './tpu.js';
import type { EdgeTpuBackendOptions, RuntimeDeviceOptions, RuntimeOptions } from './types.js';

/** Id of the one device of a runtime created without `devices` (and no `edgetpu.device` to name it). */
export const DEFAULT_DEVICE_ID = 'tpu0';

/**
 * One device as the runtime drives it: its backend, its queue and what it has done. The queue is FIFO, or
 * switch-aware when `budgetMs` > 0 (see {@link DeviceLane.takeNext}).
 */
export class DeviceLane<R extends object, C, H> {
  /** Requests waiting for this device, in arrival order. */
  readonly queue: R[] = [];
  /**
   * Reordering budget of the switch-aware discipline (`TpuDiscipline`), ms: the most expected service of later
   * requests that may start ahead of any queued request. 0: FIFO.
   */
  budgetMs = 0;
  /** Expected service of later requests that started ahead of each queued request, ms (absent: 0). */
  readonly #overtaken = new WeakMap<R, number>();
  /** A head runs on the device now. */
  busy = false;
  /** When the head running on the device is expected to finish (valid while `busy`), ms. */
  runEndMs = 0;
  /** Configurations with requests in this queue: the backlog is Σ their counts × their mean TPU times. */
  readonly configs = new Set<C>();
  calls = 0;
  reloads = 0;
  busyMs = 0;
  /** The head that started on the device last (the real backend's token holder). */
  lastHead: H | null = null;
  /** Emulated backend: the last head that ran under each caching token. */
  readonly tokenHolders = new Map<string, H>();

  constructor(
    readonly id: string,
    readonly index: number,
    readonly backend: TpuBackend,
  ) {}

  /**
   * Removes and returns the request the device starts next (undefined when none waits). FIFO, except under the
   * switch-aware discipline: when the oldest request's caching token is not `onChip`, the oldest request whose
   * token is `onChip` (no reload) starts first if the oldest request's overtaken time plus that request's expected
   * service stays within `budgetMs`. Overtaken times only grow towards the front of the queue, so bounding the
   * oldest request's bounds every request's.
   * @param tokenOf a request's caching token (null: unknown, never reordered).
   * @param expectedMsOf a request's expected Edge TPU time, ms.
   * @param onChip the token the device holds (null: unknown or none).
   */
  takeNext(
    tokenOf: (r: R) => string | null,
    expectedMsOf: (r: R) => number,
    onChip: string | null,
  ): R | undefined {
    const queue = this.queue;
    const oldest = queue[0];
    if (oldest === undefined) return undefined;
    let at = 0;
    if (this.budgetMs > 0 && onChip !== null && tokenOf(oldest) !== onChip) {
      const j = queue.findIndex((r) => tokenOf(r) === onChip);
      const used = this.#overtaken.get(oldest) ?? 0;
      if (j > 0 && used + expectedMsOf(queue[j]!) <= this.budgetMs) at = j;
    }
    const [next] = queue.splice(at, 1);
    if (at > 0) {
      const e = expectedMsOf(next!);
      for (let i = 0; i < at; i++) this.#overtaken.set(queue[i]!, (this.#overtaken.get(queue[i]!) ?? 0) + e);
    }
    return next;
  }

  /** Expected service of later requests that started ahead of `r` so far, ms (0 when none did). */
  overtakenMs(r: R): number {
    return this.#overtaken.get(r) ?? 0;
  }
}

function isEdgeTpu(d: unknown): d is { edgetpu: EdgeTpuBackendOptions } {
  return typeof d === 'object' && d !== null && 'edgetpu' in d && typeof d.edgetpu === 'object';
}

interface EmulatorSettings {
  functional: boolean;
  threads: number;
  workers: number;
  timeScale?: number;
  seed?: number;
}

/** What one entry of `RuntimeOptions.devices` (or the single `device`) resolves to. */
type Resolved = { id: string; profile: ProfileInput } | { id: string; edgetpu: EdgeTpuBackendOptions };

/** The devices the options name: `devices` when given, else the one `device` (default profile `usb3`). */
function resolve(options: RuntimeOptions): Resolved[] {
  const base = options.device ?? 'usb3';
  const list = options.devices;
  if (list === undefined) {
    if (isEdgeTpu(base)) return [{ id: base.edgetpu.device ?? DEFAULT_DEVICE_ID, edgetpu: base.edgetpu }];
    return [{ id: DEFAULT_DEVICE_ID, profile: base as ProfileInput }];
  }
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidArgumentError(
      expected('a non-empty array of { id, profile? }', 'the runtime devices', list),
    );
  }
  const seen = new Set<string>();
  return list.map((d: RuntimeDeviceOptions, i) => {
    const what = `the runtime devices[${i}]`;
    if (typeof d !== 'object' || d === null || typeof d.id !== 'string' || d.id.length === 0) {
      throw new InvalidArgumentError(expected('an object with a non-empty string id', what, d));
    }
    if (seen.has(d.id)) {
      throw new InvalidArgumentError(expected('a device id used once', `${what}.id`, d.id), {
        details: { reason: 'duplicate-device' },
      });
    }
    seen.add(d.id);
    if (d.edgetpu !== undefined) return { id: d.id, edgetpu: d.edgetpu };
    if (d.profile !== undefined) return { id: d.id, profile: d.profile };
    // Neither: the runtime's `device` — a profile, or the delegate settings with this device's id as its path.
    if (isEdgeTpu(base)) return { id: d.id, edgetpu: { ...base.edgetpu, device: d.id } };
    return { id: d.id, profile: base as ProfileInput };
  });
}

/**
 * Creates the backends of a runtime's devices. Every device is emulated, or every device is real: the runtime
 * reports one backend kind. Emulated devices share one emulation pool (see {@link SharedEmulation}); each has
 * its own seed (`seed + index`) so their jitter is independent.
 * @throws InvalidArgumentError for a bad list, a duplicate id, an unknown profile or mixed backends.
 */
export function createDevices<R extends object, C, H>(
  options: RuntimeOptions,
  emu: EmulatorSettings,
): { lanes: DeviceLane<R, C, H>[]; shared: SharedEmulation | null } {
  const resolved = resolve(options);
  const real = resolved.filter((d) => 'edgetpu' in d).length;
  if (real !== 0 && real !== resolved.length) {
    throw new InvalidArgumentError(
      expected(
        'only emulated devices or only real Edge TPUs',
        'the runtime devices',
        resolved.map((d) => d.id),
      ),
      { details: { reason: 'mixed-backends' } },
    );
  }
  const workers = positiveInt(emu.workers, 'the emulator workers');
  // One pool for several emulated devices (a single device keeps its own, as before).
  const shared =
    real === 0 && resolved.length > 1 && emu.functional ? new SharedEmulation(workers, emu.threads) : null;
  const lanes = resolved.map((d, i) => {
    let backend: TpuBackend;
    if ('edgetpu' in d) backend = new EdgeTpuBackend(d.edgetpu);
    else {
      const settings: ConstructorParameters<typeof EmulatedBackend>[1] = {
        functional: emu.functional,
        threads: emu.threads,
        workers,
      };
      if (emu.timeScale !== undefined) settings.timeScale = emu.timeScale;
      if (emu.seed !== undefined) settings.seed = emu.seed + i;
      if (shared !== null) settings.shared = shared;
      backend = new EmulatedBackend(d.profile, settings);
    }
    return new DeviceLane<R, C, H>(d.id, i, backend);
  });
  return { lanes, shared };
}
