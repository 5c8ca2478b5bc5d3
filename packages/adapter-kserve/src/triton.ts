/**
 * Triton's extensions of the protocol, in Triton's JSON shapes: model configuration
 * (`GET /v2/models/{m}[/versions/{v}]/config`, the JSON form of `ModelConfig` in Triton's model_config.proto),
 * statistics (`GET /v2/models[/{m}[/versions/{v}]]/stats`) and the model repository's index
 * (`POST /v2/repository/index`). See triton-inference-server/server, docs/protocol/extension_model_configuration.md,
 * extension_statistics.md and extension_model_repository.md.
 */

import type { ModelMetadata } from '@swapless/contracts';
import { InvalidArgumentError } from '@swapless/core';
import type { KServeDatatype } from './datatypes.js';
import type { RepositoryIndexEntry } from './types.js';

/** A tensor of Triton's model configuration (`ModelInput` / `ModelOutput`). */
export interface TritonTensorConfig {
  name: string;
  /** `TYPE_INT8`, `TYPE_FP32`, … (`BYTES` is `TYPE_STRING`). */
  data_type: string;
  /** Inputs only: `FORMAT_NONE` (no image layout is implied). */
  format?: 'FORMAT_NONE';
  /** The whole shape (`max_batch_size` is 0: the batch dimension, if any, is part of it); -1 for any size. */
  dims: number[];
}

/** Triton's model configuration as `GET …/config` answers it (the fields SwapLess can fill). */
export interface TritonModelConfig {
  name: string;
  platform: string;
  backend: string;
  version_policy: { latest: { num_versions: number } };
  /** 0: the server does not batch requests; each request carries its full shape. */
  max_batch_size: 0;
  input: TritonTensorConfig[];
  output: TritonTensorConfig[];
}

/** Triton's data type name of a KServe datatype (model_config.proto's `DataType`). */
export function tritonDataType(datatype: KServeDatatype): string {
  return datatype === 'BYTES' ? 'TYPE_STRING' : `TYPE_${datatype}`;
}

/** The Triton model configuration of a served model, from its metadata. */
export function modelConfigOf(meta: ModelMetadata): TritonModelConfig {
  return {
    name: meta.name,
    platform: meta.platform,
    backend: meta.platform,
    version_policy: { latest: { num_versions: 1 } },
    max_batch_size: 0,
    input: meta.inputs.map((t) => ({
      name: t.name,
      data_type: tritonDataType(t.datatype),
      format: 'FORMAT_NONE' as const,
      dims: [...t.shape],
    })),
    output: meta.outputs.map((t) => ({
      name: t.name,
      data_type: tritonDataType(t.datatype),
      dims: [...t.shape],
    })),
  };
}

/** Triton's `$duration_stat`: how many times, and their total in nanoseconds. */
export interface DurationStat {
  count: number;
  ns: number;
}

/** Triton's `$model_stat` (without `batch_stats`: the server runs every request on its own, never batched). */
export interface TritonModelStat {
  name: string;
  version: string;
  /** When the last successful inference completed, ms since the epoch (0: none yet). */
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: {
    success: DurationStat;
    fail: DurationStat;
    queue: DurationStat;
    compute_input: DurationStat;
    compute_infer: DurationStat;
    compute_output: DurationStat;
    cache_hit: DurationStat;
  };
  batch_stats: never[];
}

const nsOf = (ms: number): number => Math.round(ms * 1e6);

/**
 * The measured statistics of one served model. Durations are kept in ms as measured (`performance.now()`
 * differences) and turned into Triton's integer nanoseconds when reported.
 */
export class ModelStatistics {
  successCount = 0;
  successMs = 0;
  failCount = 0;
  failMs = 0;
  queueMs = 0;
  inputMs = 0;
  inferMs = 0;
  outputMs = 0;
  lastInference = 0;

  /** @param meta the metadata object of the model these statistics are of (a re-registered model has a new one) */
  constructor(readonly meta: ModelMetadata) {}

  /** One successful request: its total time and its parts, ms. */
  success(totalMs: number, inputMs: number, queueMs: number, inferMs: number, outputMs: number): void {
    this.successCount++;
    this.successMs += totalMs;
    this.inputMs += inputMs;
    this.queueMs += queueMs;
    this.inferMs += inferMs;
    this.outputMs += outputMs;
    this.lastInference = Date.now();
  }

  /** One failed request and the time until it failed, ms. */
  fail(totalMs: number): void {
    this.failCount++;
    this.failMs += totalMs;
  }

  /** Triton's `$model_stat`. */
  toJSON(): TritonModelStat {
    const n = this.successCount;
    return {
      name: this.meta.name,
      version: this.meta.versions[0] ?? '1',
      last_inference: this.lastInference,
      inference_count: n,
      execution_count: n,
      inference_stats: {
        success: { count: n, ns: nsOf(this.successMs) },
        fail: { count: this.failCount, ns: nsOf(this.failMs) },
        queue: { count: n, ns: nsOf(this.queueMs) },
        compute_input: { count: n, ns: nsOf(this.inputMs) },
        compute_infer: { count: n, ns: nsOf(this.inferMs) },
        compute_output: { count: n, ns: nsOf(this.outputMs) },
        cache_hit: { count: 0, ns: 0 },
      },
      batch_stats: [],
    };
  }
}

/** Per served model statistics, keyed by name; a model registered again under a name starts from zero. */
export class StatisticsTable {
  readonly #byName = new Map<string, ModelStatistics>();

  /** The statistics of `meta`'s model (created on first use). */
  of(meta: ModelMetadata): ModelStatistics {
    let s = this.#byName.get(meta.name);
    if (s === undefined || s.meta !== meta) {
      s = new ModelStatistics(meta);
      this.#byName.set(meta.name, s);
    }
    return s;
  }

  /**
   * The `$model_stat` of each model `current` lists (in that order; a served model with no requests yet reports
   * zeros), dropping what is kept for models no longer served.
   */
  report(current: readonly ModelMetadata[]): TritonModelStat[] {
    const served = new Set(current.map((m) => m.name));
    for (const name of this.#byName.keys()) if (!served.has(name)) this.#byName.delete(name);
    return current.map((meta) => this.of(meta).toJSON());
  }
}

/**
 * Parses the body of `POST /v2/repository/index`: empty, or a JSON object with an optional boolean `ready`.
 * @throws InvalidArgumentError (400) for anything else.
 */
export function parseIndexRequest(body: Buffer): { ready: boolean } {
  const text = body.toString('utf8').trim();
  if (text === '') return { ready: false };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(
      `Expected a JSON repository index request ({ "ready"?: boolean }) but it does not parse: ${(error as Error).message.slice(0, 120)}`,
    );
  }
  const ready = (value as { ready?: unknown } | null)?.ready;
  const keys =
    value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : null;
  if (
    keys === null ||
    keys.some((k) => k !== 'ready') ||
    (ready !== undefined && typeof ready !== 'boolean')
  ) {
    throw new InvalidArgumentError(
      `Expected a repository index request { "ready"?: boolean } but received ${text.length > 80 ? `${text.slice(0, 80)}…` : text}`,
    );
  }
  return { ready: ready === true };
}

/** The index of a backend without its own: every served model, `READY` when it is ready, else `UNAVAILABLE`. */
export function servedIndex(
  names: readonly string[],
  meta: (name: string) => ModelMetadata | undefined,
  isReady: (name: string) => boolean,
): RepositoryIndexEntry[] {
  const entries: RepositoryIndexEntry[] = [];
  for (const name of names) {
    const m = meta(name);
    if (m === undefined) continue;
    const ready = isReady(name);
    entries.push({
      name,
      version: m.versions[0] ?? '1',
      state: ready ? 'READY' : 'UNAVAILABLE',
      reason: ready ? '' : 'not ready',
    });
  }
  return entries;
}
