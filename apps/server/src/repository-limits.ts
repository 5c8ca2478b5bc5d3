/**
 * `repositoryLimits` in the server config: how large each file of the model repository may be and how long one read
 * may take. Every file the server reads from the repository goes through @swapless/core's confined reader (inside the
 * root after following links, a regular file, under its cap, within the deadline); these are its numbers.
 */
import { DEFAULT_CONFINED_READ_TIMEOUT_MS } from '@swapless/core';
import { DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_MODEL_BYTES } from '@swapless/service';

/** The caps and the deadline of repository reads (the matching `ModelRepository` options). */
export interface RepositoryLimits {
  /** Largest `.tflite` accepted, bytes (default 256 MiB). */
  readonly maxModelBytes: number;
  /** Largest other file (`config.json`, …), bytes (default 1 MiB). */
  readonly maxFileBytes: number;
  /** Deadline of one file read, ms (default 30000). */
  readonly readTimeoutMs: number;
}

/** JSON Schema of `repositoryLimits` (defaults applied by ajv). */
export const REPOSITORY_LIMITS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // A flatbuffer (a .tflite) cannot exceed 2 GiB.
    maxModelBytes: { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1, default: DEFAULT_MAX_MODEL_BYTES },
    maxFileBytes: { type: 'integer', minimum: 1, maximum: 64 * 1024 * 1024, default: DEFAULT_MAX_FILE_BYTES },
    readTimeoutMs: {
      type: 'integer',
      minimum: 100,
      maximum: 3_600_000,
      default: DEFAULT_CONFINED_READ_TIMEOUT_MS,
    },
  },
  default: {},
} as const;

/** The normalised `repositoryLimits` of a validated config (defaults already applied by the schema). */
export function repositoryLimitsOf(input: Partial<RepositoryLimits> | undefined): RepositoryLimits {
  return {
    maxModelBytes: input?.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES,
    maxFileBytes: input?.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    readTimeoutMs: input?.readTimeoutMs ?? DEFAULT_CONFINED_READ_TIMEOUT_MS,
  };
}
