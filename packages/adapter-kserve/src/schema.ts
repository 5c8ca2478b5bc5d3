/**
 * JSON Schemas of the inference request, compiled once at module load. The schema checks the structure only:
 * the elements of `data` are checked while they are copied into the typed array (one pass instead of two), and
 * names, datatypes and shapes are checked against the model afterwards, with messages that name the model.
 */
import { formatAjvErrors, InvalidArgumentError } from '@swapless/core';
import { Ajv } from 'ajv';
import { KSERVE_DATATYPES } from './datatypes.js';

const NAME = { type: 'string', minLength: 1, maxLength: 256 } as const;
const PARAMETERS = { type: 'object' } as const;

/** JSON Schema (draft-07) of `$inference_request` (the JSON part, with the binary extension's parameters). */
export const INFERENCE_REQUEST_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://swapless.dev/schemas/kserve-inference-request.json',
  title: 'KServe v2 inference request',
  type: 'object',
  required: ['inputs'],
  properties: {
    id: { type: 'string', maxLength: 1024 },
    parameters: {
      type: 'object',
      properties: {
        binary_data_output: { type: 'boolean' },
        // Triton's schedule-policy parameter: µs the client will wait; it may shorten the server's deadline.
        timeout: { type: 'integer', minimum: 0 },
      },
    },
    inputs: {
      type: 'array',
      minItems: 1,
      maxItems: 1024,
      items: {
        type: 'object',
        required: ['name', 'shape', 'datatype'],
        properties: {
          name: NAME,
          shape: { type: 'array', maxItems: 32, items: { type: 'integer', minimum: 0 } },
          datatype: { enum: [...KSERVE_DATATYPES] },
          parameters: {
            type: 'object',
            properties: { binary_data_size: { type: 'integer', minimum: 0 } },
          },
          data: { type: 'array' },
        },
      },
    },
    outputs: {
      type: 'array',
      maxItems: 1024,
      items: {
        type: 'object',
        required: ['name'],
        properties: {
          name: NAME,
          parameters: { ...PARAMETERS, properties: { binary_data: { type: 'boolean' } } },
        },
      },
    },
  },
} as const;

// allErrors off: the first problem is enough for a 400, and the validator stops there (cheaper on bad input).
const ajv = new Ajv({ allErrors: false, strict: true });
const validateRequest = ajv.compile(INFERENCE_REQUEST_SCHEMA);

/** The JSON part of a request once it passed the schema. */
export interface InferenceRequestJson {
  id?: string;
  parameters?: { binary_data_output?: boolean; timeout?: number; [key: string]: unknown };
  inputs: {
    name: string;
    shape: number[];
    datatype: string;
    parameters?: { binary_data_size?: number; [key: string]: unknown };
    data?: unknown[];
  }[];
  outputs?: { name: string; parameters?: { binary_data?: boolean; [key: string]: unknown } }[];
}

/** Checks the structure of a parsed request; throws InvalidArgumentError (400) naming the first problem. */
export function checkInferenceRequest(value: unknown): InferenceRequestJson {
  if (validateRequest(value)) return value as unknown as InferenceRequestJson;
  const [problem] = formatAjvErrors(validateRequest.errors);
  throw new InvalidArgumentError(
    `Expected a KServe v2 inference request but received one that does not match the protocol: ${problem}`,
    { details: { reason: 'schema', problems: formatAjvErrors(validateRequest.errors) } },
  );
}
