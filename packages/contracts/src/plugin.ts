/**
 * The latency-model plugin API: the interface a model implements, the factory a plugin's entry exports, the
 * observations `fit()` receives, and the JSON manifest (`swapless-plugin.json`) that describes a plugin
 * package. The host that loads, checks and registers plugins is `@swapless/queueing`; how to write one, start to
 * finish: docs/plugins.md.
 */
import type { Prediction, SystemSetup } from './system.js';

/**
 * Version of the latency-model plugin API this package implements. A plugin's manifest declares the range it
 * supports in `apiVersion` (e.g. `^1.0.0`); a plugin whose range does not include this version is refused
 * before its code loads. Bumped: major when {@link LatencyModel}, {@link FitObservation} or the manifest change
 * incompatibly, minor when something optional is added.
 */
export const API_VERSION = '1.0.0';

/** File name of the plugin manifest, at the root of the plugin package. */
export const PLUGIN_MANIFEST_FILE = 'swapless-plugin.json';

/**
 * What the runtime measured for one tenant over one window, for models that calibrate online. Every time is a
 * mean over the window's `count` requests, in ms; stage fields are absent when the tenant has no such stage or
 * the runtime did not record it. (The runtime's own per-request samples are `RuntimeObservation` of
 * `@swapless/runtime`; the service turns them into these.)
 */
export interface FitObservation {
  /** Tenant name, as in {@link SystemSetup}. */
  tenant: string;
  /** Cut point in effect during the window. */
  k: number;
  /** CPU cores the tenant had during the window. */
  cores: number;
  /** Measured arrival rate over the window, requests per second. */
  rate: number;
  /** Number of requests the means summarise (a weight; ≥ 1). */
  count: number;
  /** Mean wait in the Edge TPU queue. */
  tpuWaitMs?: number;
  /** Mean Edge TPU call time, reloads included. */
  tpuServiceMs?: number;
  /** Fraction of the tenant's Edge TPU calls that paid a reload (the device held another token), in [0, 1]. */
  reloadFraction?: number;
  /** Mean wait in the tenant's CPU queue. */
  cpuWaitMs?: number;
  /** Mean CPU stage service time. */
  cpuServiceMs?: number;
  /** Mean end-to-end response time. */
  responseMs?: number;
}

/**
 * A latency model: predicts every tenant's mean response time for a configured system. Implementations must be
 * deterministic for a given state, must not mutate their input, must report an unstable queue as
 * `responseMs = Infinity` with `unstable` set (never NaN), and must throw a SwapLess error (a `code` starting
 * with `SWAPLESS_`) for a malformed system. The conformance kit (`checkLatencyModel`) checks all of this.
 */
export interface LatencyModel {
  /** Model name, reported as {@link Prediction.model}. */
  readonly name: string;
  /** Predicts the whole system (synchronous: optimisers call it thousands of times). */
  predict(system: SystemSetup): Prediction;
  /** Optional online calibration from runtime measurements; later predictions may use them. */
  fit?(observations: readonly FitObservation[]): void;
}

/**
 * What a plugin's entry module exports as its default export: creates a model from options that were
 * already validated against the manifest's `optionsSchema`, with its defaults applied.
 */
export type LatencyModelFactory<Options extends object = Record<string, unknown>> = (
  options: Options,
) => LatencyModel;

/** A JSON Schema document (the manifest's `optionsSchema`). */
export type JsonSchema = Record<string, unknown>;

/** The plugin manifest, `swapless-plugin.json` at the root of the plugin package. */
export interface PluginManifest {
  /** Optional `$schema` reference for editors. */
  $schema?: string;
  /** Plugin name as the registry lists it (usually the npm package name). */
  name: string;
  /** Plugin version, semver `MAJOR.MINOR.PATCH`. */
  version: string;
  /** What the plugin provides; only `latency-model` so far. */
  kind: 'latency-model';
  /** Semver range of {@link API_VERSION}s the plugin supports (`^1.0.0`, `~1.0`, `>=1.0.0 <2`, `1.x`…). */
  apiVersion: string;
  /** Relative path, inside the package, of the ES module whose default export is a {@link LatencyModelFactory}. */
  entry: string;
  /** JSON Schema (draft-07) of the options object; its `default`s are applied before the factory sees it. */
  optionsSchema?: JsonSchema;
  /** One line for listings. */
  description?: string;
}

/**
 * JSON Schema (draft-07) of {@link PluginManifest}. `entry` must be a relative path (no leading `/`, no drive
 * letter, no backslashes); that it stays inside the package after `..` and symlinks are resolved is checked in
 * code, since a schema cannot see the file system.
 */
export const PLUGIN_MANIFEST_JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://swapless.dev/schemas/swapless-plugin.json',
  title: 'SwapLess plugin manifest',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'version', 'kind', 'apiVersion', 'entry'],
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', minLength: 1, maxLength: 214, pattern: '^(@[a-z0-9._~-]+/)?[a-z0-9._~-]+$' },
    version: {
      type: 'string',
      pattern: '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$',
    },
    kind: { const: 'latency-model' },
    apiVersion: { type: 'string', minLength: 1, maxLength: 256 },
    entry: { type: 'string', minLength: 1, pattern: '^(?![/\\\\])(?![A-Za-z]:)[^\\\\]+$' },
    optionsSchema: {
      type: 'object',
      required: ['type'],
      properties: { type: { const: 'object' } },
    },
    description: { type: 'string', maxLength: 500 },
  },
} as const;
