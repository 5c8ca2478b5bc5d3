/**
 * The server config's `latencyModel` key: which latency model the controller plans with and the status reports.
 * The forms are `@swapless/queueing`'s latency-model choice (an id, a plugin package name or a path, or
 * `{ id, options }`); here a relative path is made absolute against the file (or the working directory, for the
 * environment and flags) it came from, and the whole normalised to `{ id, options }`. Whether the id, path or
 * options are right is the registry's call when the service starts (SWAPLESS_INVALID_CONFIG saying what was
 * expected).
 */
import { isAbsolute, resolve } from 'node:path';
import type { LatencyModelChoice } from '@swapless/service';

/** `latencyModel` of a validated server config. */
export interface LatencyModelConfig {
  readonly id: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** Normalises a schema-valid `latencyModel` value; null or undefined (not configured: `mg1-default`) is null. */
export function latencyModelConfigOf(
  value: LatencyModelChoice | null | undefined,
  baseDir: string,
): LatencyModelConfig | null {
  if (value === undefined || value === null) return null;
  const { id, options } = typeof value === 'string' ? { id: value, options: {} } : value;
  const relative =
    (id.startsWith('./') || id.startsWith('../') || id === '.' || id === '..') && !isAbsolute(id);
  return { id: relative ? resolve(baseDir, id) : id, options: { ...(options ?? {}) } };
}
