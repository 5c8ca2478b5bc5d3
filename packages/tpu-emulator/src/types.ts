/**
 * Public types of the Edge TPU device model. These shapes are a contract with `@swapless/compiler` (which
 * returns {@link CompileReport}s for emulated compiles), `@swapless/sim` (virtual-time breakdowns) and the CLI
 * (`swapless emulate --fidelity` prints {@link FidelityReport}). Change them only additively.
 *
 * Units: bytes are plain bytes (MiB = 2^20 B only in names that say so), times in the breakdowns are
 * milliseconds, link rates are MB/s with MB = 10^6 B (the unit the published bandwidths use).
 */

/** Names of the built-in device profiles. */
export type BuiltinProfileName = 'usb3' | 'usb2' | 'pcie' | 'devboard';

/**
 * A device profile: every constant of the device model, named. Built-in profiles are documented, with the
 * source or derivation of every value, in docs/tpu-emulator.md (calibration table). Custom profiles are JSON
 * of this shape (or `extends` a built-in one and overrides fields), validated by `PROFILE_JSON_SCHEMA`.
 */
export interface DeviceProfile {
  /** Profile name (a built-in name, or the custom profile's own). */
  readonly name: string;
  /** One line saying which hardware this profile stands for. */
  readonly description: string;
  /** Edge TPU core clock, MHz (500 with the `max` runtime, 250 with the standard runtime). */
  readonly clockMHz: number;
  /** Peak int8 multiply-accumulates per cycle of the matrix unit (64×64 array: 4096 → 4.1 TOPS at 500 MHz). */
  readonly macsPerCycle: number;
  /**
   * Sustained fraction of the peak MAC rate per array op type (`CONV_2D`, `DEPTHWISE_CONV_2D`,
   * `FULLY_CONNECTED`, `TRANSPOSE_CONV`, …), for layers whose parameters are cached on chip. Every other op
   * type runs on the vector unit ({@link DeviceProfile.vectorElementsPerCycle}).
   */
  readonly arrayEfficiency: Readonly<Record<string, number>>;
  /** MAC-equivalents per cycle of the vector unit (element-wise ops, pooling, reductions, activations). */
  readonly vectorElementsPerCycle: number;
  /**
   * Bytes of activations the on-chip memory moves to and from the compute units per cycle. An op takes at
   * least (input + output activation bytes) / this: depthwise and thin 1×1 layers are bound by it, not by MACs.
   */
  readonly activationBytesPerCycle: number;
  /** Fixed cycles per op on the Edge TPU (instruction issue, array fill and drain, DMA descriptor setup). */
  readonly opOverheadCycles: number;
  /**
   * Array op types timed tile by tile (docs/tpu-emulator.md, "Small layers"): the layer's weights are split in
   * ⌈K/64⌉·⌈C/64⌉ tiles of the 64×64 array (K = reduction depth, C = output channels), and each tile streams the
   * layer's P output positions plus {@link DeviceProfile.arrayTileOverheadCycles}, at `arrayEfficiency[type]`.
   * Absent or empty: every array op uses the flat `macs / (macsPerCycle · arrayEfficiency)` of profile version 1.
   */
  readonly tiledArrayTypes?: readonly string[];
  /** Cycles per array tile besides its output positions (weight load, pipeline fill and drain). Default 0. */
  readonly arrayTileOverheadCycles?: number;
  /**
   * Op types that move no data on the Edge TPU (the compiler lays their inputs out in place: concatenation,
   * reshape): they cost nothing. Absent: none.
   */
  readonly zeroCopyTypes?: readonly string[];
  /**
   * Op types applied to their producer's output on the fly (pooling in the output pipeline): only their vector
   * work and the per-op cost count, no activation traffic. Absent: none.
   */
  readonly fusedOutputTypes?: readonly string[];
  /** Effective host link bandwidth, MB/s (10^6 B/s): input, streamed parameters and cache reloads use it. */
  readonly linkMBps: number;
  /** Fixed cost of one invocation (driver, USB/PCIe round trips, runtime bookkeeping), ms. */
  readonly callOverheadMs: number;
  /** Cost per output byte relative to an input byte (device → host reads are several times slower). */
  readonly outputCostFactor: number;
  /**
   * Fraction of the smaller of a call's Edge TPU compute and its parameter streaming that overlaps the other
   * (the DMA engine prefetches streamed parameters while earlier layers compute). 1: the call takes
   * max(compute, streaming); 0: their sum.
   */
  readonly streamOverlap: number;
  /** On-chip SRAM, MiB. */
  readonly sramMiB: number;
  /** SRAM never available for parameters (instructions, scalars, scratch), MiB. */
  readonly fixedReserveMiB: number;
  /**
   * Fraction of the largest activation tensor of the Edge TPU part that the compiler keeps on chip (layers
   * are tiled in bands; this is the resident share), reserved before parameters are cached.
   */
  readonly activationReserveFactor: number;
  /** Cap on the activation reservation, MiB (bigger working sets are tiled through host memory). */
  readonly maxActivationReserveMiB: number;
  /** Coefficient of variation of the optional multiplicative jitter (0: deterministic). */
  readonly jitterCv: number;
}

/** A profile given by name (built-in) or as an already validated profile object. */
export type ProfileInput = BuiltinProfileName | DeviceProfile;

/** Where an Edge TPU op's parameters live at run time. */
export type ParameterPlacement = 'cached' | 'streamed' | 'none';

/** One Edge TPU op (a mapped op of the segment) as the compile report places it. */
export interface LayerReport {
  /** Position in the model's op order (docs/splitting.md). */
  readonly position: number;
  /** Builtin operator name (e.g. `CONV_2D`). */
  readonly type: string;
  /** Multiply-accumulates (MAC-equivalents for non-linear ops, docs/splitting.md). */
  readonly macs: number;
  /** Parameter bytes of the op (its weights and bias, stored bytes), cached or streamed as one unit. */
  readonly weightBytes: number;
  /** Bytes of the op's activation (non-constant) inputs. */
  readonly inputBytes: number;
  /** Bytes of the op's outputs. */
  readonly outputBytes: number;
  /** Channels (last dimension) of the op's first output; absent in reports made before it was recorded. */
  readonly outputChannels?: number;
  /** Positions of the op's first output (its elements / channels, e.g. H·W); absent like `outputChannels`. */
  readonly outputPositions?: number;
  /** `none` for ops without parameters. */
  readonly placement: ParameterPlacement;
}

/** The compile report of one model of a compiled unit. */
export interface ModelCompileReport {
  /** Index in the co-compiled set (argument order); 0 for a single segment. */
  readonly index: number;
  /** The model's description or subgraph name. */
  readonly name: string;
  /** Compute ops in the model (op order length n). */
  readonly opCount: number;
  /** Ops that run on the Edge TPU: the Edge-TPU-mappable prefix. */
  readonly mappedOps: number;
  /** Ops that run on the CPU: the first op that cannot map and every op after it. */
  readonly unmappedOps: number;
  /** The first op that cannot map, when there is one. */
  readonly firstUnmapped?: { readonly position: number; readonly type: string; readonly reason: string };
  /** "On-chip memory used for caching model parameters", bytes. */
  readonly onChipCachedBytes: number;
  /**
   * "On-chip memory remaining for caching model parameters", bytes: the parameter budget minus what this
   * model and the models before it in the set cached.
   */
  readonly onChipRemainingBytes: number;
  /** "Off-chip memory used for streaming uncached model parameters", bytes per inference. */
  readonly offChipStreamedBytes: number;
  /** Parameter bytes of the mapped ops (cached + streamed). */
  readonly parameterBytes: number;
  /** MACs of the mapped ops. */
  readonly macs: number;
  /** Bytes sent to the Edge TPU per call (model inputs its mapped ops read). */
  readonly inputBytes: number;
  /** Bytes read back per call (tensors the Edge TPU part produces for the host). */
  readonly outputBytes: number;
  /** Largest single activation tensor a mapped op reads or writes, bytes (drives the activation reservation). */
  readonly largestActivationBytes: number;
  /** One entry per mapped op, in op order. */
  readonly layers: readonly LayerReport[];
}

/**
 * What the (emulated) Edge TPU compiler reports for one compiled unit: a segment, or a co-compiled set of
 * segments that share one caching token and one parameter budget (filled in argument order).
 */
export interface CompileReport {
  /** Always `emulated`: every latency and figure derived from it says which path produced it. */
  readonly source: 'emulated';
  /** Shape version of this object (bumped only on incompatible change). */
  readonly reportVersion: 1;
  /** Name of the profile the report was made for (the budget depends on its SRAM constants). */
  readonly profile: string;
  /** The caching token of the unit: all its models share it. */
  readonly cachingToken: string;
  /** SRAM reserved for activations (shared by the set: one model runs at a time), bytes. */
  readonly activationReserveBytes: number;
  /** SRAM usable for parameters = SRAM − fixed reserve − activation reserve, bytes. */
  readonly parameterBudgetBytes: number;
  /** Sum over models of their cached bytes. */
  readonly onChipCachedBytes: number;
  /** Budget left after every model of the set. */
  readonly onChipRemainingBytes: number;
  /** Sum over models of their streamed bytes. */
  readonly offChipStreamedBytes: number;
  /** Sum over models of their mapped ops. */
  readonly mappedOps: number;
  /** Sum over models of their unmapped (CPU) ops. */
  readonly unmappedOps: number;
  /** Per model, in argument order. */
  readonly models: readonly ModelCompileReport[];
}

/** Time of one call on the device, ms; the parts add up to `totalMs`. */
export interface CallBreakdown {
  /** Fixed per-call cost. */
  readonly overheadMs: number;
  /** Host → device input transfer. */
  readonly inputMs: number;
  /** Device → host output transfer. */
  readonly outputMs: number;
  /** Edge TPU compute of every mapped op of the called model (op overheads, array, vector and activation work). */
  readonly computeMs: number;
  /** Streamed-parameter transfer time not hidden behind compute: S − overlap · min(compute, S). */
  readonly streamedMs: number;
  /** Re-upload of the unit's cached parameters after a token switch (0 when the token matched). */
  readonly reloadMs: number;
  /** Seeded random deviation (0 unless the profile's `jitterCv` > 0); may be negative. */
  readonly jitterMs: number;
  /** Sum of the parts above: the call's duration. */
  readonly totalMs: number;
}

/** Options of one timed call. */
export interface CallOptions {
  /** Which model of a co-compiled set is called (default 0). */
  readonly model?: number;
}

/** Result of one call through a `VirtualDevice` or an `EmulatedDevice`. */
export interface CallResult {
  readonly breakdown: CallBreakdown;
  /** True when the device held another token and the unit's cached parameters were re-uploaded. */
  readonly reloaded: boolean;
  /** Token held before the call (null on a fresh device). */
  readonly tokenBefore: string | null;
  /** Token held after the call (the unit's). */
  readonly tokenAfter: string;
  /** Index of the model called in its unit. */
  readonly model: number;
}

/** Kind of a calibration figure. */
export type FidelityKind = 'latency' | 'alternation' | 'co-compiled';

/** One published figure against the emulator. */
export interface FidelityRow {
  /** Stable identifier, e.g. `latency/mobilenet_v1/usb3`. */
  readonly id: string;
  /** What is compared: one model's latency, the alternation cost per pair, or a co-compiled pair. */
  readonly kind: FidelityKind;
  /** Zoo model names involved (argument order for co-compiled sets). */
  readonly models: readonly string[];
  /** The profile the published figure was measured on. */
  readonly profile: BuiltinProfileName;
  /** The published figure, ms. */
  readonly publishedMs: number;
  /** What the device model computes, ms (3 decimals). */
  readonly emulatedMs: number;
  /** (emulated − published) / published × 100. */
  readonly errorPct: number;
  /** True when the acceptance criterion applies to this row (some published figures are approximate). */
  readonly acceptance: boolean;
  /** |errorPct| ≤ tolerance. */
  readonly withinTolerance: boolean;
  /** Where the published figure comes from. */
  readonly source: string;
}

/** Result of `fidelityReport()`: JSON-friendly, stable shape (docs/tpu-emulator.md). */
export interface FidelityReport {
  /** Shape version of this object. */
  readonly reportVersion: 1;
  /** Always `emulated`. */
  readonly source: 'emulated';
  /** Acceptance tolerance, percent. */
  readonly tolerancePct: number;
  /** Zoo seed the models were built with. */
  readonly seed: number;
  /** One row per published figure, in `FIDELITY_TARGETS` order. */
  readonly rows: readonly FidelityRow[];
  /** Every acceptance row within tolerance. */
  readonly pass: boolean;
  /** Largest |errorPct| among acceptance rows. */
  readonly maxAbsErrorPct: number;
}
