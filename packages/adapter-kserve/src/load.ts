/**
 * Load-generation helpers shared by `swapless load` and the server benchmark: latency summaries, random inputs
 * from a model's metadata, and a closed loop (N requests always in flight). Every latency here is a client-side
 * measured HTTP round trip.
 */
import { performance } from 'node:perf_hooks';
import type { ModelMetadata } from '@swapless/contracts';
import { expected, InvalidArgumentError, quantile } from '@swapless/core';
import type { InferInput, KServeClient, RawResponse } from './client.js';
import { arrayTypeOf, isNumericDatatype, toHalfBits } from './datatypes.js';

/** Count, mean and percentiles of latencies (ms); null figures when there are none. */
export interface LatencySummary {
  count: number;
  meanMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Summarises latencies (ms): mean, p50, p95, p99 (type-7 interpolation), max. */
export function summarizeLatencies(values: ArrayLike<number>): LatencySummary {
  const n = values.length;
  if (n === 0) return { count: 0, meanMs: null, p50Ms: null, p95Ms: null, p99Ms: null, maxMs: null };
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return {
    count: n,
    meanMs: sum / n,
    p50Ms: quantile(sorted, 0.5),
    p95Ms: quantile(sorted, 0.95),
    p99Ms: quantile(sorted, 0.99),
    maxMs: sorted[n - 1]!,
  };
}

/**
 * One random input per model input, of the right datatype and shape (a `-1` dimension becomes 1), from
 * `random` (uniform in [0, 1); pass a seeded generator for reproducible inputs): floats uniform in [−1, 1),
 * INT8/UINT8 over their whole range, wider integers in [0, 100) (they are often indices), BOOL 0/1.
 */
export function randomInputs(
  metadata: Pick<ModelMetadata, 'inputs'>,
  random: () => number = Math.random,
): InferInput[] {
  return metadata.inputs.map((t) => {
    if (!isNumericDatatype(t.datatype)) {
      throw new InvalidArgumentError(
        expected('a numeric datatype', `input ${JSON.stringify(t.name)}`, t.datatype),
      );
    }
    const shape = t.shape.map((d) => (d < 0 ? 1 : d));
    const n = shape.reduce((a, d) => a * d, 1);
    const data = new (arrayTypeOf(t.datatype))(n);
    for (let i = 0; i < n; i++) {
      const u = random();
      switch (t.datatype) {
        case 'FP32':
        case 'FP64':
          (data as Float64Array)[i] = 2 * u - 1;
          break;
        case 'FP16':
          (data as Uint16Array)[i] = toHalfBits(2 * u - 1);
          break;
        case 'INT8':
          (data as Int8Array)[i] = Math.floor(u * 256) - 128;
          break;
        case 'UINT8':
          (data as Uint8Array)[i] = Math.floor(u * 256);
          break;
        case 'BOOL':
          (data as Uint8Array)[i] = u < 0.5 ? 0 : 1;
          break;
        case 'INT64':
        case 'UINT64':
          (data as BigInt64Array)[i] = BigInt(Math.floor(u * 100));
          break;
        default:
          (data as Int32Array)[i] = Math.floor(u * 100);
      }
    }
    return { name: t.name, datatype: t.datatype, shape, data };
  });
}

/** The key a failed request is counted under: its HTTP status, or `network` when no answer came. */
export function failureKey(status: number): string {
  return status === 0 ? 'network' : String(status);
}

/** Options of {@link runClosedLoop}. */
export interface ClosedLoopOptions {
  /** Requests kept in flight (≥ 1). */
  concurrency: number;
  /** Length of the measured window, ms. */
  durationMs: number;
  /** Binary tensor data both ways (default JSON). */
  binary?: boolean;
  /** Unmeasured warm-up before the window, ms (default 0). */
  warmupMs?: number;
  /** Stop after this many measured requests (default unbounded). */
  maxRequests?: number;
  /** Model version (default the unversioned route). */
  version?: string;
}

/** What {@link runClosedLoop} measured. */
export interface ClosedLoopResult {
  model: string;
  concurrency: number;
  binary: boolean;
  /** From the window's start to the last measured completion, ms. */
  durationMs: number;
  /** Requests started in the window and completed. */
  requests: number;
  ok: number;
  /** Failed requests by HTTP status (`network` for no answer). */
  errors: Record<string, number>;
  /** ok / duration, per second. */
  requestsPerS: number;
  /** Latency of the successful requests (client-side round trip, measured). */
  latency: LatencySummary;
}

/**
 * A closed loop against `POST /v2/models/{model}/infer`: `concurrency` workers each send the same pre-encoded
 * request, wait for the answer and send the next, for `warmupMs` (not counted) then `durationMs`. The request is
 * encoded once and responses are not decoded (only their status is read), so the figures are the server's.
 */
export async function runClosedLoop(
  client: KServeClient,
  model: string,
  inputs: readonly InferInput[],
  options: ClosedLoopOptions,
): Promise<ClosedLoopResult> {
  const { concurrency, durationMs } = options;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new InvalidArgumentError(expected('a positive integer', 'runClosedLoop concurrency', concurrency));
  }
  if (!(durationMs > 0)) {
    throw new InvalidArgumentError(
      expected('a positive number of ms', 'runClosedLoop durationMs', durationMs),
    );
  }
  const binary = options.binary === true;
  const encoded = client.encodeInfer(inputs, {
    binary,
    ...(options.version !== undefined ? { version: options.version } : {}),
  });
  const maxRequests = options.maxRequests ?? Number.POSITIVE_INFINITY;
  const start = performance.now() + (options.warmupMs ?? 0);
  const end = start + durationMs;
  let latencies = new Float64Array(4096);
  let ok = 0;
  let requests = 0;
  let lastEnd = start;
  const errors: Record<string, number> = {};

  const worker = async () => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= end || requests >= maxRequests) return;
      let status: number;
      try {
        const res: RawResponse = await client.send(model, encoded);
        status = res.status;
      } catch (err) {
        status = (err as { status?: number }).status ?? 0;
      }
      const t1 = performance.now();
      if (t0 < start) continue;
      requests++;
      lastEnd = Math.max(lastEnd, t1);
      if (status === 200) {
        if (ok === latencies.length) {
          const grown = new Float64Array(latencies.length * 2);
          grown.set(latencies);
          latencies = grown;
        }
        latencies[ok++] = t1 - t0;
      } else {
        const key = failureKey(status);
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const measured = Math.max(lastEnd - start, 1e-9);
  return {
    model,
    concurrency,
    binary,
    durationMs: measured,
    requests,
    ok,
    errors,
    requestsPerS: (ok * 1000) / measured,
    latency: summarizeLatencies(latencies.subarray(0, ok)),
  };
}
