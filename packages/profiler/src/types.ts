/**
 * The profile document: what `profileModel` measures, what the cache stores and what the queueing model and the
 * simulator read. Field-by-field documentation: docs/profiler.md. The JSON Schema in schema.ts mirrors these
 * types; change both together and bump {@link PROFILE_SCHEMA_VERSION} when a reader would misread old files.
 */

/** Version of the profile document format. A cache file of another version is re-measured, never migrated. */
export const PROFILE_SCHEMA_VERSION = 2;

/** Value of `kind`: lets a reader tell a profile from any other SwapLess JSON file at a glance. */
export const PROFILE_KIND = 'swapless-profile';

/** How each sample was timed: `process.hrtime.bigint()` around one synchronous `Interpreter.invoke()`. */
export const PROFILE_TIMER = 'hrtime-invoke';

/** Which side of a cut a part is: the prefix [0,k) (Edge TPU side) or the suffix [k,n) (CPU side). */
export type PartName = 'prefix' | 'suffix';

/** The invoke times of one part at one thread count. All times in milliseconds. */
export interface Measurement {
  /** Threads given to TFLite's builtin kernels and to XNNPACK. */
  threads: number;
  /** Every timed invoke in the order it ran (chronological), for empirical distributions and drift checks. */
  samples: number[];
  /** Median of the samples (mean of the two middle ones for an even count). */
  median: number;
  mean: number;
  /** Sample standard deviation (n − 1 denominator; 0 for a single sample). */
  std: number;
  min: number;
  max: number;
  /** 10th percentile, linear interpolation between order statistics. */
  p10: number;
  /** 90th percentile, linear interpolation between order statistics. */
  p90: number;
}

/** One measured part: a self-contained model as `splitModel` + `writeModel` produce it. */
export interface PartProfile {
  /** The compute ops it runs, as the half-open op-order range [start, end). */
  ops: [number, number];
  /** Size of the part's .tflite bytes. */
  bytes: number;
  /**
   * The CPU kernels that ran it (`backend.kernels` of its interpreters): `'xnnpack'`, or `'reference'` when
   * XNNPACK could not prepare the part and TFLite's builtin kernels ran it instead.
   */
  kernels: 'xnnpack' | 'reference';
  /** True when the part is uint8 and ran as its int8 rewrite (`backend.int8`). */
  int8: boolean;
  /** One entry per profiled thread count, ascending by threads. */
  measurements: Measurement[];
}

/** One profiled cut k: its static costs (from `cutPoints`) and the measured parts. */
export interface CutProfile {
  k: number;
  /** True when the whole prefix [0,k) can map to the Edge TPU. */
  edgetpuMappable: boolean;
  /** Number of tensors crossing the cut. */
  boundaryTensors: number;
  /** Bytes of all boundary tensors. */
  boundaryBytes: number;
  /** Bytes of the boundary tensors produced by the prefix (what leaves the Edge TPU). */
  transferBytes: number;
  prefixMacs: number;
  suffixMacs: number;
  /** The prefix [0,k); null at k = 0, where it is empty. */
  prefix: PartProfile | null;
  /** The suffix [k,n); null at k = n, where it is empty. */
  suffix: PartProfile | null;
}

/** Which model was profiled. */
export interface ModelIdentity {
  /** Hex SHA-256 of the model bytes as given. */
  sha256: string;
  /** Size of the model bytes. */
  bytes: number;
  /** Number of compute ops (cut points are 0..n). */
  n: number;
  /** Length of the Edge-TPU-mappable prefix (0 when the first op cannot map). */
  edgetpuPrefix: number;
  /** A human name, when the caller gave one or the model came from a file. Not part of the identity. */
  name?: string;
}

/** Which runtime measured, configured how. */
export interface RuntimeIdentity {
  /** `TfLiteVersion()` of the loaded library. */
  tfliteVersion: string;
  /** Always true: SwapLess runs its CPU part with XNNPACK, so that is what is measured. */
  xnnpack: true;
  /** The uint8 policy of the interpreters: `'int8'`, uint8 compute rewritten to int8 for XNNPACK (the default). */
  uint8: 'int8';
  /** `INT8_REWRITE_VERSION` of @swapless/tflite: a changed rewrite is a different runtime, so it is re-measured. */
  int8Rewrite: number;
}

/** Which machine measured: stable facts only (no clock speed, load or free memory). */
export interface HostIdentity {
  /** `os.cpus()[0].model`, or "unknown" when the platform reports none. */
  cpuModel: string;
  /** Logical CPUs (`os.cpus().length`, else `os.availableParallelism()`). */
  cores: number;
  /** `process.platform`. */
  platform: string;
  /** `process.arch`. */
  arch: string;
}

/** How the profile was measured. */
export interface ProfileSettings {
  /** How the cuts were chosen: `auto`, `all`, or an explicit `list`. */
  cuts: 'auto' | 'all' | 'list';
  /** The cap on the number of cuts applied by `auto`; present only then. */
  maxCuts?: number;
  /** Thread counts profiled, ascending. */
  threads: number[];
  /** Untimed invokes per interpreter before the timed ones. */
  warmup: number;
  /** Timed invokes per (part, thread count): the length of every `samples` array. */
  repetitions: number;
  /** Timed invokes in a row per thread count before switching (each block after one untimed lead-in). */
  blockSize: number;
  /** Seed of the deterministic input data. */
  seed: number;
  /** How samples were timed. */
  timer: typeof PROFILE_TIMER;
}

/** A profile document (schema version 2). */
export interface Profile {
  schemaVersion: typeof PROFILE_SCHEMA_VERSION;
  kind: typeof PROFILE_KIND;
  /** When the measurement finished, ISO 8601 UTC. */
  createdAt: string;
  /** Wall time the measurement took, ms (splitting, interpreter creation, warm-up and timed invokes). */
  durationMs: number;
  model: ModelIdentity;
  runtime: RuntimeIdentity;
  host: HostIdentity;
  settings: ProfileSettings;
  /** The profiled cuts, ascending by k, no duplicates. */
  cuts: CutProfile[];
}

/**
 * What `profileModel` returns: the profile plus how it was obtained. The three extra properties are
 * non-enumerable, so `JSON.stringify(result)` is exactly the profile document.
 */
export type ProfileResult = Profile & {
  /** True when the profile was loaded from the cache instead of measured. */
  readonly cached: boolean;
  /** The cache file read or written; null when caching was off or the file could not be written. */
  readonly cachePath: string | null;
  /** Non-fatal problems: an ignored cache file and why, a cache write that failed. */
  readonly warnings: readonly string[];
};
