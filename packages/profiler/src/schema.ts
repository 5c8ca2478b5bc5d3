/**
 * The JSON Schema (draft-07) of the profile document, its validator, and load/save. A profile is validated
 * every time it crosses the process boundary (saved, loaded, read from the cache), because a queueing model fed
 * a wrong or partial profile produces plausible-looking but wrong decisions. The schema checks shape and
 * types (ajv also rejects NaN and ±Infinity for `number`); the cross-field rules JSON Schema cannot express
 * (sample counts = repetitions, cuts ascending, null parts exactly at the ends…) are checked after it.
 */
import { readFile } from 'node:fs/promises';
import {
  InvalidArgumentError,
  type SwapLessErrorOptions,
  SwapLessIoError,
  writeFileAtomic,
} from '@swapless/core';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { PROFILE_KIND, PROFILE_SCHEMA_VERSION, PROFILE_TIMER, type Profile } from './types.js';

const nonNegative = { type: 'number', minimum: 0 } as const;
const count = { type: 'integer', minimum: 0 } as const;

/** The profile document's JSON Schema (draft-07). Mirrors the `Profile` type; see docs/profiler.md. */
export const PROFILE_JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://swapless.dev/schemas/profile-2.json',
  title: 'SwapLess CPU service-time profile',
  type: 'object',
  additionalProperties: false,
  required: [
    'schemaVersion',
    'kind',
    'createdAt',
    'durationMs',
    'model',
    'runtime',
    'host',
    'settings',
    'cuts',
  ],
  properties: {
    schemaVersion: { const: PROFILE_SCHEMA_VERSION },
    kind: { const: PROFILE_KIND },
    createdAt: {
      type: 'string',
      pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$',
    },
    durationMs: nonNegative,
    model: {
      type: 'object',
      additionalProperties: false,
      required: ['sha256', 'bytes', 'n', 'edgetpuPrefix'],
      properties: {
        sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        bytes: count,
        n: count,
        edgetpuPrefix: count,
        name: { type: 'string' },
      },
    },
    runtime: {
      type: 'object',
      additionalProperties: false,
      required: ['tfliteVersion', 'xnnpack', 'uint8', 'int8Rewrite'],
      properties: {
        tfliteVersion: { type: 'string', minLength: 1 },
        xnnpack: { const: true },
        uint8: { const: 'int8' },
        int8Rewrite: { type: 'integer', minimum: 1 },
      },
    },
    host: {
      type: 'object',
      additionalProperties: false,
      required: ['cpuModel', 'cores', 'platform', 'arch'],
      properties: {
        cpuModel: { type: 'string' },
        cores: { type: 'integer', minimum: 1 },
        platform: { type: 'string', minLength: 1 },
        arch: { type: 'string', minLength: 1 },
      },
    },
    settings: {
      type: 'object',
      additionalProperties: false,
      required: ['cuts', 'threads', 'warmup', 'repetitions', 'blockSize', 'seed', 'timer'],
      properties: {
        cuts: { enum: ['auto', 'all', 'list'] },
        maxCuts: { type: 'integer', minimum: 2 },
        threads: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { type: 'integer', minimum: 1 },
        },
        warmup: count,
        repetitions: { type: 'integer', minimum: 1 },
        blockSize: { type: 'integer', minimum: 1 },
        seed: { type: 'integer' },
        timer: { const: PROFILE_TIMER },
      },
    },
    cuts: { type: 'array', minItems: 1, items: { $ref: '#/definitions/cut' } },
  },
  definitions: {
    measurement: {
      type: 'object',
      additionalProperties: false,
      required: ['threads', 'samples', 'median', 'mean', 'std', 'min', 'max', 'p10', 'p90'],
      properties: {
        threads: { type: 'integer', minimum: 1 },
        samples: { type: 'array', minItems: 1, items: nonNegative },
        median: nonNegative,
        mean: nonNegative,
        std: nonNegative,
        min: nonNegative,
        max: nonNegative,
        p10: nonNegative,
        p90: nonNegative,
      },
    },
    part: {
      type: 'object',
      additionalProperties: false,
      required: ['ops', 'bytes', 'kernels', 'int8', 'measurements'],
      properties: {
        ops: { type: 'array', minItems: 2, maxItems: 2, items: count },
        bytes: count,
        kernels: { enum: ['xnnpack', 'reference'] },
        int8: { type: 'boolean' },
        measurements: { type: 'array', minItems: 1, items: { $ref: '#/definitions/measurement' } },
      },
    },
    cut: {
      type: 'object',
      additionalProperties: false,
      required: [
        'k',
        'edgetpuMappable',
        'boundaryTensors',
        'boundaryBytes',
        'transferBytes',
        'prefixMacs',
        'suffixMacs',
        'prefix',
        'suffix',
      ],
      properties: {
        k: count,
        edgetpuMappable: { type: 'boolean' },
        boundaryTensors: count,
        boundaryBytes: count,
        transferBytes: count,
        prefixMacs: nonNegative,
        suffixMacs: nonNegative,
        prefix: { anyOf: [{ type: 'null' }, { $ref: '#/definitions/part' }] },
        suffix: { anyOf: [{ type: 'null' }, { $ref: '#/definitions/part' }] },
      },
    },
  },
} as const;

/**
 * A profile document that failed validation. `details.errors` lists every problem as `{ path, message }`
 * (JSON Pointer paths, as ajv reports them); the message repeats the first few.
 */
export class InvalidProfileError extends InvalidArgumentError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(message, options);
  }
}

let compiled: ValidateFunction | undefined;

/** Compiled once, on first use: compiling costs a few ms and most processes never validate a profile. */
function schemaValidator(): ValidateFunction {
  if (compiled === undefined) {
    compiled = new Ajv({ allErrors: true, strict: true }).compile(PROFILE_JSON_SCHEMA);
  }
  return compiled;
}

interface Problem {
  path: string;
  message: string;
}

function fromAjv(errors: readonly ErrorObject[]): Problem[] {
  return errors.map((e) => {
    let message = e.message ?? e.keyword;
    if (e.keyword === 'additionalProperties') {
      message += ` (${String((e.params as { additionalProperty?: unknown }).additionalProperty)})`;
    } else if (e.keyword === 'const' || e.keyword === 'enum') {
      message += ` ${JSON.stringify((e.params as { allowedValue?: unknown; allowedValues?: unknown }).allowedValue ?? (e.params as { allowedValues?: unknown }).allowedValues)}`;
    }
    return { path: e.instancePath === '' ? '/' : e.instancePath, message };
  });
}

/** The cross-field rules: everything a well-typed document can still get wrong. */
function semanticProblems(p: Profile): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const { n } = p.model;
  const threads = p.settings.threads;
  if (p.model.edgetpuPrefix > n) add('/model/edgetpuPrefix', `must be at most n (${n})`);
  for (let i = 1; i < threads.length; i++) {
    if (threads[i]! <= threads[i - 1]!) add('/settings/threads', 'must be ascending');
  }
  if (p.settings.cuts === 'auto' && p.settings.maxCuts === undefined) {
    add('/settings', "must have maxCuts when cuts is 'auto'");
  }
  p.cuts.forEach((cut, i) => {
    const at = `/cuts/${i}`;
    if (cut.k > n) add(`${at}/k`, `must be at most n (${n})`);
    if (i > 0 && cut.k <= p.cuts[i - 1]!.k) add(`${at}/k`, 'must be greater than the previous cut');
    for (const side of ['prefix', 'suffix'] as const) {
      const part = cut[side];
      const empty = side === 'prefix' ? cut.k === 0 : cut.k === n;
      if (empty !== (part === null)) {
        add(`${at}/${side}`, empty ? 'must be null: this side of the cut is empty' : 'must be a part');
      }
      if (part === null) continue;
      const range = side === 'prefix' ? [0, cut.k] : [cut.k, n];
      if (part.ops[0] !== range[0] || part.ops[1] !== range[1]) {
        add(`${at}/${side}/ops`, `must be [${range[0]}, ${range[1]}]`);
      }
      if (part.measurements.length !== threads.length) {
        add(`${at}/${side}/measurements`, `must have one entry per thread count (${threads.length})`);
      }
      part.measurements.forEach((m, j) => {
        const mp = `${at}/${side}/measurements/${j}`;
        if (m.threads !== threads[j]) add(`${mp}/threads`, `must be ${threads[j]} (settings.threads order)`);
        if (m.samples.length !== p.settings.repetitions) {
          add(`${mp}/samples`, `must have ${p.settings.repetitions} samples (settings.repetitions)`);
        }
        if (!(m.min <= m.p10 && m.p10 <= m.median && m.median <= m.p90 && m.p90 <= m.max)) {
          add(mp, 'must satisfy min ≤ p10 ≤ median ≤ p90 ≤ max');
        }
      });
    }
  });
  return problems;
}

function reject(problems: Problem[], where: string, cause?: unknown): never {
  const shown = problems
    .slice(0, 5)
    .map((e) => `${e.path} ${e.message}`)
    .join('; ');
  const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
  throw new InvalidProfileError(
    `Expected a valid SwapLess profile (schema version ${PROFILE_SCHEMA_VERSION}) for ${where} but received ` +
      `one with ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${shown}${more}`,
    { cause, details: { errors: problems } },
  );
}

/**
 * Checks that `json` is a valid profile document (schema, then cross-field rules) and returns it typed.
 * Throws {@link InvalidProfileError} (code `SWAPLESS_INVALID_ARGUMENT`) whose message names the failing
 * paths, e.g. `/cuts/0/suffix/measurements/1/median must be number`.
 */
export function validateProfile(json: unknown, where = 'the profile'): Profile {
  const validate = schemaValidator();
  if (!validate(json)) reject(fromAjv(validate.errors ?? []), where);
  const problems = semanticProblems(json as Profile);
  if (problems.length > 0) reject(problems, where);
  return json as Profile;
}

/** Reads and validates a profile file. `SwapLessIoError` when unreadable, `InvalidProfileError` when invalid. */
export async function loadProfile(path: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SwapLessIoError(`Cannot read the profile file ${path}: ${(error as Error).message}`, {
      cause: error,
      details: { path },
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    reject([{ path: '/', message: `is not JSON (${(error as Error).message})` }], path, error);
  }
  return validateProfile(json, path);
}

/**
 * Validates a profile and writes it to `path` atomically (2-space JSON; the non-enumerable extras of a
 * `ProfileResult` are not written). `InvalidProfileError` when invalid, `SwapLessIoError` when unwritable.
 */
export async function saveProfile(path: string, profile: Profile): Promise<void> {
  const text = JSON.stringify(profile, null, 2);
  validateProfile(JSON.parse(text), 'the profile to save');
  await writeFileAtomic(path, `${text}\n`);
}
