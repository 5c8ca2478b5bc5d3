/**
 * Virtual-time device model: pure functions from a compile report and a profile to per-call durations, and a
 * {@link VirtualDevice} that tracks the caching token. Equations: docs/tpu-emulator.md ("Timing model").
 */
import { expected, InvalidArgumentError, SeededRandom, UnsupportedModelError } from '@swapless/core';
import { resolveProfile } from './profiles.js';
import type {
  CallBreakdown,
  CallOptions,
  CallResult,
  CompileReport,
  DeviceProfile,
  LayerReport,
  ProfileInput,
} from './types.js';

/** ms per byte over the host link. */
function msPerByte(p: DeviceProfile): number {
  return 1e3 / (p.linkMBps * 1e6);
}

/**
 * Edge TPU compute time of one op, ms: a fixed per-op cost plus the larger (roofline) of its MAC time — at
 * the array's sustained rate for its type (types listed in `arrayEfficiency`) or at the vector unit's rate
 * (every other type) — and its activation traffic time (input + output bytes through on-chip memory).
 */
export function layerComputeMs(layer: LayerReport, profile: ProfileInput): number {
  const p = resolveProfile(profile);
  if (p.zeroCopyTypes?.includes(layer.type)) return 0;
  const cyclesPerMs = p.clockMHz * 1e3;
  if (p.fusedOutputTypes?.includes(layer.type)) {
    return (p.opOverheadCycles + layer.macs / p.vectorElementsPerCycle) / cyclesPerMs;
  }
  const eff = p.arrayEfficiency[layer.type];
  let macCycles: number;
  if (eff === undefined) macCycles = layer.macs / p.vectorElementsPerCycle;
  else if (p.tiledArrayTypes?.includes(layer.type)) macCycles = tiledArrayCycles(layer, p, eff);
  else macCycles = layer.macs / (p.macsPerCycle * eff);
  const activationCycles = (layer.inputBytes + layer.outputBytes) / p.activationBytesPerCycle;
  return (p.opOverheadCycles + Math.max(macCycles, activationCycles)) / cyclesPerMs;
}

/**
 * Array cycles of a layer timed tile by tile: its K×C weight matrix (K = reduction depth = MACs per output
 * element, C = output channels) occupies ⌈K/r⌉·⌈C/r⌉ tiles of the r×r array (r = √macsPerCycle), and each tile
 * streams the P output positions plus a fixed fill/drain/weight-load cost, at the sustained efficiency `eff`.
 * Partly filled tiles (K or C not a multiple of r) and few positions (deep 7×7 layers) make small layers slow;
 * wide, shallow ones (P in the thousands) run near `eff` of the peak.
 */
function tiledArrayCycles(layer: LayerReport, p: DeviceProfile, eff: number): number {
  const channels = layer.outputChannels ?? 0;
  const positions = layer.outputPositions ?? 0;
  // A report without the output shape (made before it was recorded): the flat efficiency.
  if (!(channels > 0 && positions > 0)) return layer.macs / (p.macsPerCycle * eff);
  if (layer.macs <= 0) return 0;
  const side = Math.sqrt(p.macsPerCycle);
  const depth = layer.macs / (positions * channels);
  const tiles = Math.ceil(depth / side - 1e-9) * Math.ceil(channels / side - 1e-9);
  return (tiles * (positions + (p.arrayTileOverheadCycles ?? 0))) / eff;
}

/**
 * Time to stream one layer's parameters over the link, ms (0 unless the layer is `streamed`).
 */
export function layerStreamMs(layer: LayerReport, profile: ProfileInput): number {
  const p = resolveProfile(profile);
  return layer.placement === 'streamed' ? layer.weightBytes * msPerByte(p) : 0;
}

/**
 * Time to re-upload the cached parameters of a whole unit after a token switch, ms: the unit's cached bytes
 * (every model of a co-compiled set: they are cached together) over the link.
 */
export function reloadMs(unit: CompileReport, profile: ProfileInput): number {
  return unit.onChipCachedBytes * msPerByte(resolveProfile(profile));
}

function checkUnit(unit: CompileReport, p: DeviceProfile, model: number): void {
  if (
    typeof unit !== 'object' ||
    unit === null ||
    unit.source !== 'emulated' ||
    !Array.isArray(unit.models)
  ) {
    throw new InvalidArgumentError(
      expected('a compile report from compileReport()', 'an Edge TPU call', unit),
    );
  }
  if (unit.profile !== p.name) {
    // The parameter budget, hence cached vs streamed, was decided for the compile profile's SRAM.
    throw new InvalidArgumentError(
      expected(`a unit compiled for profile "${p.name}"`, 'an Edge TPU call', unit.profile),
      { details: { unitProfile: unit.profile, deviceProfile: p.name } },
    );
  }
  if (!Number.isInteger(model) || model < 0 || model >= unit.models.length) {
    throw new InvalidArgumentError(
      expected(
        `a model index between 0 and ${unit.models.length - 1}`,
        'the model of the unit to call',
        model,
      ),
    );
  }
  const m = unit.models[model]!;
  if (m.mappedOps === 0) {
    const why = m.firstUnmapped ? ` (op ${m.firstUnmapped.type}: ${m.firstUnmapped.reason})` : '';
    throw new UnsupportedModelError(
      expected(
        'a segment with at least one Edge-TPU-mappable op',
        `model ${model} of unit ${unit.cachingToken}`,
        `0 mapped of ${m.opCount}${why}`,
      ),
      { details: { model, opCount: m.opCount, firstUnmapped: m.firstUnmapped } },
    );
  }
}

/** Options of {@link callBreakdown}. */
export interface BreakdownOptions extends CallOptions {
  /** True when the device held another token: the unit's cached parameters are re-uploaded first. */
  readonly reload?: boolean;
  /** A standard-normal sample for the jitter term (scaled by the profile's `jitterCv`); default 0. */
  readonly jitterZ?: number;
}

/**
 * Duration of one call of `model` of `unit` on the device, with its parts (pure: no device state).
 *
 * total = overhead + input + output + C + (S − overlap · min(C, S)) + reload + jitter, with C the Σ of the
 * called model's layer compute times and S the Σ of its streamed layers' transfer times.
 *
 * @throws InvalidArgumentError for a unit compiled for another profile or a bad model index;
 *   UnsupportedModelError (`SWAPLESS_UNSUPPORTED_MODEL`) when the called model has no Edge TPU op.
 */
export function callBreakdown(
  unit: CompileReport,
  profile: ProfileInput,
  options: BreakdownOptions = {},
): CallBreakdown {
  const p = resolveProfile(profile);
  const model = options.model ?? 0;
  checkUnit(unit, p, model);
  const m = unit.models[model]!;
  const perByte = msPerByte(p);
  let computeMs = 0;
  let streamMs = 0;
  for (const layer of m.layers) {
    computeMs += layerComputeMs(layer, p);
    streamMs += layerStreamMs(layer, p);
  }
  // Streaming is prefetched by DMA while earlier layers compute; only part of it hides (docs: overlap).
  const streamedMs = streamMs - p.streamOverlap * Math.min(computeMs, streamMs);
  const overheadMs = p.callOverheadMs;
  const inputMs = m.inputBytes * perByte;
  const outputMs = m.outputBytes * perByte * p.outputCostFactor;
  const reload = options.reload === true ? reloadMs(unit, p) : 0;
  const base = overheadMs + inputMs + outputMs + computeMs + streamedMs + reload;
  // Bounded so that a rare draw can never make a call take negative time.
  const z = Math.max(-3, Math.min(3, options.jitterZ ?? 0));
  const jitterMs = Math.max(-base, base * p.jitterCv * z);
  return {
    overheadMs,
    inputMs,
    outputMs,
    computeMs,
    streamedMs,
    reloadMs: reload,
    jitterMs,
    totalMs: base + jitterMs,
  };
}

/** Options of a {@link VirtualDevice}. */
export interface DeviceOptions {
  /** Seed of the jitter stream (used only when the profile's `jitterCv` > 0). Default 0. */
  readonly seed?: number;
}

/**
 * The device's state in virtual time: the token of the last unit it ran. Calling a unit with another token
 * flushes the cache and re-uploads that unit's cached parameters (reloadMs in the breakdown); the same token
 * (the same unit, or another model of the same co-compiled set) does not.
 */
export class VirtualDevice {
  /** The profile the device runs with. */
  readonly profile: DeviceProfile;
  #token: string | null = null;
  #rng: SeededRandom;
  #seed: number;

  constructor(profile: ProfileInput, options: DeviceOptions = {}) {
    this.profile = resolveProfile(profile);
    const seed = options.seed ?? 0;
    if (typeof seed !== 'number' || !Number.isFinite(seed)) {
      throw new InvalidArgumentError(expected('a finite number', 'the jitter seed', seed));
    }
    this.#seed = seed;
    this.#rng = new SeededRandom(seed);
  }

  /** Caching token currently on the device (null before the first call or after {@link reset}). */
  get token(): string | null {
    return this.#token;
  }

  /** What a call would cost now, without changing the device's state or drawing jitter. */
  peek(unit: CompileReport, options: CallOptions = {}): CallBreakdown {
    return callBreakdown(unit, this.profile, { ...options, reload: this.#token !== unit.cachingToken });
  }

  /** Runs one call in virtual time: returns its breakdown and updates the token. */
  call(unit: CompileReport, options: CallOptions = {}): CallResult {
    const model = options.model ?? 0;
    const tokenBefore = this.#token;
    const reloaded = tokenBefore !== unit.cachingToken;
    // Draw only when jitter is on, so turning it on does not shift other users of the seed.
    const jitterZ = this.profile.jitterCv > 0 ? this.#rng.normal() : 0;
    const breakdown = callBreakdown(unit, this.profile, { model, reload: reloaded, jitterZ });
    this.#token = unit.cachingToken;
    return { breakdown, reloaded, tokenBefore, tokenAfter: unit.cachingToken, model };
  }

  /** Forgets the cached unit (as after a device reset) and restarts the jitter stream from the seed. */
  reset(): void {
    this.#token = null;
    this.#rng = new SeededRandom(this.#seed);
  }
}
