/**
 * Request decoding and response encoding of `POST /v2/models/{name}/infer`, JSON and binary (the binary tensor
 * data extension). Shared by the routes (server side) and the client. Per-model facts (input order, array types,
 * element counts, the constant JSON text around each output) are computed once per metadata object and cached.
 *
 * JSON output is written as text directly (`typedArray.join(',')` is a single native call) instead of building
 * plain arrays for JSON.stringify: a typed array would otherwise serialise as an object, and the copy into a
 * plain array costs more than the join.
 */

import type { ModelMetadata, NumericDatatype, TensorArray, TensorMeta } from '@swapless/contracts';
import { InvalidArgumentError } from '@swapless/core';
import {
  arrayTypeOf,
  elementCount,
  fromHalfBits,
  isNumericDatatype,
  type TensorArrayConstructor,
  toHalfBits,
} from './datatypes.js';
import { checkInferenceRequest, type InferenceRequestJson } from './schema.js';
import type { BackendResult } from './types.js';

/** Name of the HTTP header that gives the byte length of the JSON part of a binary-extension body. */
export const HEADER_LENGTH_HEADER = 'inference-header-content-length';

interface TensorPlan {
  name: string;
  nameJson: string;
  datatype: NumericDatatype;
  shape: readonly number[];
  /** Element count when the shape has no -1, else -1. */
  count: number;
  array: TensorArrayConstructor;
  bytesPerElement: number;
}

interface OutputPlan extends TensorPlan {
  /** `{"name":…,"datatype":…,"shape":[…],` for a fixed shape (else null: the shape is written per response). */
  head: string | null;
}

/** What the codec needs to know about one model, derived once from its metadata. */
export interface ModelPlan {
  readonly meta: ModelMetadata;
  readonly version: string;
  readonly inputs: readonly TensorPlan[];
  readonly outputs: readonly OutputPlan[];
  readonly inputIndex: ReadonlyMap<string, number>;
  readonly outputIndex: ReadonlyMap<string, number>;
  /** `{"model_name":…,"model_version":…` */
  readonly responseHead: string;
}

const plans = new WeakMap<ModelMetadata, ModelPlan>();

function tensorPlan(t: TensorMeta, model: string, role: 'input' | 'output'): TensorPlan {
  if (!isNumericDatatype(t.datatype)) {
    // A server-side problem (the backend describes a tensor the protocol's JSON cannot carry): a 500, not a 400.
    throw new Error(
      `Model ${JSON.stringify(model)} has ${role} ${JSON.stringify(t.name)} of datatype ${String(t.datatype)}, which SwapLess cannot exchange`,
    );
  }
  const array = arrayTypeOf(t.datatype);
  const fixed = t.shape.every((d) => d >= 0);
  return {
    name: t.name,
    nameJson: JSON.stringify(t.name),
    datatype: t.datatype,
    shape: t.shape,
    count: fixed ? elementCount(t.shape) : -1,
    array,
    bytesPerElement: array.BYTES_PER_ELEMENT,
  };
}

/** The cached plan of a model's metadata. */
export function planOf(meta: ModelMetadata): ModelPlan {
  let plan = plans.get(meta);
  if (plan !== undefined) return plan;
  const inputs = meta.inputs.map((t) => tensorPlan(t, meta.name, 'input'));
  const outputs = meta.outputs.map((t): OutputPlan => {
    const p = tensorPlan(t, meta.name, 'output');
    return {
      ...p,
      head:
        p.count >= 0
          ? `{"name":${p.nameJson},"datatype":"${p.datatype}","shape":[${p.shape.join(',')}],`
          : null,
    };
  });
  const version = meta.versions[0] ?? '1';
  plan = {
    meta,
    version,
    inputs,
    outputs,
    inputIndex: new Map(inputs.map((t, i) => [t.name, i])),
    outputIndex: new Map(outputs.map((t, i) => [t.name, i])),
    responseHead: `{"model_name":${JSON.stringify(meta.name)},"model_version":${JSON.stringify(version)}`,
  };
  plans.set(meta, plan);
  return plan;
}

function badRequest(message: string, reason: string, extra: Record<string, unknown> = {}): never {
  throw new InvalidArgumentError(message, { details: { reason, ...extra } });
}

const shapeText = (shape: readonly number[]) => `[${shape.join(',')}]`;

// ---------------------------------------------------------------------------------------------------------------
// JSON data → typed array

const INT_RANGES: Partial<Record<NumericDatatype, readonly [number, number]>> = {
  INT8: [-128, 127],
  UINT8: [0, 255],
  INT16: [-32768, 32767],
  UINT16: [0, 65535],
  INT32: [-2147483648, 2147483647],
  UINT32: [0, 4294967295],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
};

function badElement(input: string, datatype: NumericDatatype, at: string, value: unknown): never {
  const range = INT_RANGES[datatype];
  const what =
    datatype === 'BOOL'
      ? 'true or false'
      : range !== undefined
        ? `an integer from ${range[0]} to ${range[1]}`
        : 'a number';
  const got =
    typeof value === 'string'
      ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
      : Array.isArray(value)
        ? 'an array'
        : value === null
          ? 'null'
          : typeof value === 'object'
            ? 'an object'
            : String(value);
  return badRequest(
    `Expected ${what} (${datatype}) for input ${JSON.stringify(input)} at data${at} but received ${got}`,
    'element',
  );
}

/** Copies flat JSON values into `out` from `offset`, checking each one; returns the next offset. */
function fillFlat(
  values: readonly unknown[],
  out: TensorArray,
  offset: number,
  t: TensorPlan,
  path: string,
): number {
  const n = values.length;
  const dt = t.datatype;
  if (dt === 'FP32' || dt === 'FP64') {
    const o = out as Float32Array;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'number') badElement(t.name, dt, `${path}[${i}]`, v);
      o[offset + i] = v;
    }
  } else if (dt === 'FP16') {
    const o = out as Uint16Array;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'number') badElement(t.name, dt, `${path}[${i}]`, v);
      o[offset + i] = toHalfBits(v);
    }
  } else if (dt === 'BOOL') {
    const o = out as Uint8Array;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      // true/false per the protocol; 0/1 accepted too (what many clients send for BOOL).
      if (v === true || v === 1) o[offset + i] = 1;
      else if (v === false || v === 0) o[offset + i] = 0;
      else badElement(t.name, dt, `${path}[${i}]`, v);
    }
  } else if (dt === 'INT64' || dt === 'UINT64') {
    const [lo, hi] = INT_RANGES[dt]!;
    const o = out as BigInt64Array;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
        badElement(t.name, dt, `${path}[${i}]`, v);
      o[offset + i] = BigInt(v);
    }
  } else {
    const [lo, hi] = INT_RANGES[dt]!;
    const o = out as Int32Array;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
        badElement(t.name, dt, `${path}[${i}]`, v);
      o[offset + i] = v;
    }
  }
  return offset + n;
}

/** Copies nested JSON arrays that must follow `shape` exactly (row-major). */
function fillNested(
  value: readonly unknown[],
  shape: readonly number[],
  depth: number,
  out: TensorArray,
  offset: number,
  t: TensorPlan,
  path: string,
): number {
  if (value.length !== shape[depth]) {
    badRequest(
      `Expected nested arrays of shape ${shapeText(shape)} for input ${JSON.stringify(t.name)} but received an array of length ${value.length} at data${path} (dimension ${depth} is ${shape[depth]})`,
      'element-count',
    );
  }
  if (depth === shape.length - 1) return fillFlat(value, out, offset, t, path);
  let at = offset;
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (!Array.isArray(v)) {
      badRequest(
        `Expected nested arrays of shape ${shapeText(shape)} for input ${JSON.stringify(t.name)} but received ${v === null ? 'null' : typeof v} at data${path}[${i}] (depth ${depth + 1} of ${shape.length})`,
        'element-count',
      );
    }
    at = fillNested(v, shape, depth + 1, out, at, t, `${path}[${i}]`);
  }
  return at;
}

function fromJson(
  data: readonly unknown[],
  shape: readonly number[],
  count: number,
  t: TensorPlan,
): TensorArray {
  const out = new t.array(count);
  if (data.length > 0 && Array.isArray(data[0]) && shape.length > 1) {
    fillNested(data, shape, 0, out, 0, t, '');
    return out;
  }
  if (data.length !== count) {
    badRequest(
      `Expected ${count} elements (shape ${shapeText(shape)}) for input ${JSON.stringify(t.name)} but received ${data.length}`,
      'element-count',
      { input: t.name, expected: count, received: data.length },
    );
  }
  fillFlat(data, out, 0, t, '');
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Requests

/** A request decoded against its model: inputs in model order, the outputs to return and how. */
export interface DecodedRequest {
  /** The request's `id`, echoed in the response. */
  id: string | undefined;
  /** One array per model input, model order. */
  inputs: TensorArray[];
  /** Model output indices to return, in response order. */
  outputs: number[];
  /** Per returned output: send it as binary data. */
  binary: boolean[];
  /** True when any returned output is binary (the response is then a binary-extension body). */
  anyBinary: boolean;
}

function parseHeaderLength(raw: string | string[] | undefined, total: number): number | undefined {
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? raw[0] : raw;
  const n = text !== undefined && /^\d{1,15}$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(n >= 0 && n <= total)) {
    badRequest(
      `Expected an integer from 0 to ${total} (the body's length) for the Inference-Header-Content-Length header but received ${JSON.stringify(text)}`,
      'binary-header',
    );
  }
  return n;
}

/**
 * Parses the body of an inference request: plain JSON, or (with `Inference-Header-Content-Length`) a JSON header
 * followed by binary tensor data. Throws InvalidArgumentError (400) for anything malformed.
 */
export function parseInferBody(
  body: Buffer,
  headerLength: string | string[] | undefined,
): { json: InferenceRequestJson; binary: Buffer | null } {
  const n = parseHeaderLength(headerLength, body.length);
  const jsonEnd = n ?? body.length;
  if (jsonEnd === 0) {
    badRequest('Expected a JSON inference request body but received an empty body', 'empty-body');
  }
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8', 0, jsonEnd));
  } catch (err) {
    badRequest(
      `Expected a JSON inference request body but it does not parse: ${(err as Error).message}`,
      'bad-json',
    );
  }
  const json = checkInferenceRequest(value);
  return { json, binary: n === undefined ? null : body.subarray(n) };
}

/**
 * Matches a parsed request to a model: every model input exactly once (by name), datatype and shape as the
 * metadata says (a `-1` dimension accepts any size), element counts, binary data sizes, requested outputs.
 */
export function decodeInferRequest(
  plan: ModelPlan,
  json: InferenceRequestJson,
  binary: Buffer | null,
): DecodedRequest {
  const model = JSON.stringify(plan.meta.name);
  const inputs = new Array<TensorArray>(plan.inputs.length);
  let binaryOffset = 0;
  for (let r = 0; r < json.inputs.length; r++) {
    const req = json.inputs[r]!;
    const index = plan.inputIndex.get(req.name);
    if (index === undefined) {
      badRequest(
        `Expected an input of model ${model} (${plan.inputs.map((t) => JSON.stringify(t.name)).join(', ')}) for inputs[${r}].name but received ${JSON.stringify(req.name)}`,
        'unknown-input',
      );
    }
    if (inputs[index] !== undefined) {
      badRequest(
        `Expected each input once for model ${model} but received input ${JSON.stringify(req.name)} twice`,
        'duplicate-input',
      );
    }
    const t = plan.inputs[index]!;
    if (req.datatype !== t.datatype) {
      badRequest(
        `Expected datatype ${t.datatype} for input ${JSON.stringify(t.name)} but received ${req.datatype}`,
        'datatype',
        { input: t.name, expected: t.datatype, received: req.datatype },
      );
    }
    const shape = req.shape;
    let shapeOk = shape.length === t.shape.length;
    for (let d = 0; shapeOk && d < shape.length; d++) shapeOk = t.shape[d] === -1 || t.shape[d] === shape[d];
    if (!shapeOk) {
      badRequest(
        `Expected shape ${shapeText(t.shape)} for input ${JSON.stringify(t.name)} but received ${shapeText(shape)}`,
        'shape',
        { input: t.name, expected: t.shape, received: shape },
      );
    }
    const count = t.count >= 0 ? t.count : elementCount(shape);
    const size = req.parameters?.binary_data_size;
    if (size !== undefined) {
      inputs[index] = binaryInput(req, t, count, size, binary, binaryOffset);
      binaryOffset += size;
    } else {
      if (req.data === undefined) {
        badRequest(
          `Expected data or parameters.binary_data_size for input ${JSON.stringify(t.name)} but received neither`,
          'no-data',
        );
      }
      inputs[index] = fromJson(req.data, shape, count, t);
    }
  }
  for (let i = 0; i < plan.inputs.length; i++) {
    if (inputs[i] === undefined) {
      badRequest(
        `Expected an input named ${JSON.stringify(plan.inputs[i]!.name)} for model ${model} but received none (inputs: ${json.inputs.map((x) => JSON.stringify(x.name)).join(', ')})`,
        'missing-input',
      );
    }
  }
  if (binary !== null && binaryOffset !== binary.length) {
    badRequest(
      `Expected ${binaryOffset} bytes of binary tensor data after the JSON header (the sum of binary_data_size) but received ${binary.length}`,
      'binary-size',
    );
  }

  const { outputs, flags } = requestedOutputs(plan, json, model);
  return { id: json.id, inputs, outputs, binary: flags, anyBinary: flags.includes(true) };
}

/**
 * Input `t`'s `count` elements from the binary tensor data after the JSON header, at `binaryOffset`: its
 * `binary_data_size` (`size`) must be exactly their bytes and present after the header.
 */
function binaryInput(
  req: InferenceRequestJson['inputs'][number],
  t: TensorPlan,
  count: number,
  size: number,
  binary: Buffer | null,
  binaryOffset: number,
): TensorArray {
  if (req.data !== undefined) {
    badRequest(
      `Expected either data or parameters.binary_data_size for input ${JSON.stringify(t.name)} but received both`,
      'binary-size',
    );
  }
  if (binary === null) {
    badRequest(
      `Expected an Inference-Header-Content-Length header for input ${JSON.stringify(t.name)} with binary_data_size but received none`,
      'binary-header',
    );
  }
  const want = count * t.bytesPerElement;
  if (size !== want) {
    badRequest(
      `Expected binary_data_size ${want} (${count} ${t.datatype} elements, shape ${shapeText(req.shape)}) for input ${JSON.stringify(t.name)} but received ${size}`,
      'element-count',
      { input: t.name, expected: want, received: size },
    );
  }
  if (binaryOffset + size > binary.length) {
    badRequest(
      `Expected ${binaryOffset + size} bytes of binary tensor data after the JSON header (through input ${JSON.stringify(t.name)}) but received ${binary.length}`,
      'binary-size',
    );
  }
  // Always a copy into a fresh, aligned array: the body may start at any offset of a pooled buffer.
  const out = new t.array(count);
  new Uint8Array(out.buffer, out.byteOffset, want).set(binary.subarray(binaryOffset, binaryOffset + size));
  return out;
}

/** The outputs a request asks for (all by default) and whether each goes back as binary data. */
function requestedOutputs(
  plan: ModelPlan,
  json: InferenceRequestJson,
  model: string,
): { outputs: number[]; flags: boolean[] } {
  const allBinary = json.parameters?.binary_data_output === true;
  let outputs: number[];
  let flags: boolean[];
  if (json.outputs === undefined) {
    outputs = plan.outputs.map((_, i) => i);
    flags = outputs.map(() => allBinary);
  } else {
    outputs = [];
    flags = [];
    for (let r = 0; r < json.outputs.length; r++) {
      const o = json.outputs[r]!;
      const index = plan.outputIndex.get(o.name);
      if (index === undefined) {
        badRequest(
          `Expected an output of model ${model} (${plan.outputs.map((t) => JSON.stringify(t.name)).join(', ')}) for outputs[${r}].name but received ${JSON.stringify(o.name)}`,
          'unknown-output',
        );
      }
      outputs.push(index);
      flags.push(o.parameters?.binary_data ?? allBinary);
    }
  }
  return { outputs, flags };
}

// ---------------------------------------------------------------------------------------------------------------
// Typed array → JSON text

/** The JSON text of a tensor's elements without the brackets (`1,2.5,3`); non-finite floats become null. */
export function jsonElements(data: TensorArray, datatype: NumericDatatype): string {
  if (datatype === 'BOOL') {
    let s = '';
    for (let i = 0; i < data.length; i++)
      s += i === 0 ? (data[i] ? 'true' : 'false') : data[i] ? ',true' : ',false';
    return s;
  }
  if (datatype === 'FP16') {
    const values = new Array<number>(data.length);
    for (let i = 0; i < data.length; i++) values[i] = fromHalfBits(data[i] as number);
    return finiteJoin(values);
  }
  if (datatype === 'FP32' || datatype === 'FP64') return finiteJoin(data as Float32Array);
  // Integers (BigInt arrays included) join to valid JSON numbers.
  return (data as Int32Array).join(',');
}

function finiteJoin(values: Float32Array | Float64Array | number[]): string {
  const s = values.join(',');
  // NaN and ±Infinity are the only number texts with these letters; JSON has no spelling for them.
  if (s.includes('N') || s.includes('I')) {
    return Array.from(values, (v) => (Number.isFinite(v) ? String(v) : 'null')).join(',');
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Responses

/** An encoded response: JSON text, or a binary-extension body with its JSON header length. */
export type EncodedResponse =
  | { kind: 'json'; body: string }
  | { kind: 'binary'; body: Buffer; headerLength: number };

function outputShape(t: OutputPlan, data: TensorArray): readonly number[] {
  if (t.count >= 0) return t.shape;
  // One -1 dimension is resolved from the element count; several cannot be, and are reported as sent.
  const unknown = t.shape.filter((d) => d < 0).length;
  if (unknown !== 1) return t.shape;
  const known = t.shape.reduce((a, d) => (d < 0 ? a : a * d), 1);
  return t.shape.map((d) => (d < 0 ? (known === 0 ? 0 : data.length / known) : d));
}

/** Encodes the backend's result as the protocol's `$inference_response`. */
export function encodeInferResponse(
  plan: ModelPlan,
  request: DecodedRequest,
  result: BackendResult,
): EncodedResponse {
  const outputs = result.outputs;
  if (!Array.isArray(outputs) || outputs.length !== plan.outputs.length) {
    throw new Error(
      `Expected ${plan.outputs.length} outputs from the backend for model ${JSON.stringify(plan.meta.name)} but received ${Array.isArray(outputs) ? outputs.length : typeof outputs}`,
    );
  }
  let s = plan.responseHead;
  if (request.id !== undefined) s += `,"id":${JSON.stringify(request.id)}`;
  if (result.parameters !== undefined) s += `,"parameters":${JSON.stringify(result.parameters)}`;
  s += ',"outputs":[';
  let binaryBytes = 0;
  for (let r = 0; r < request.outputs.length; r++) {
    const t = plan.outputs[request.outputs[r]!]!;
    const data = outputs[request.outputs[r]!]!;
    if (t.count >= 0 && data.length !== t.count) {
      throw new Error(
        `Expected ${t.count} elements for output ${JSON.stringify(t.name)} from the backend but received ${data.length}`,
      );
    }
    if (r > 0) s += ',';
    s +=
      t.head ??
      `{"name":${t.nameJson},"datatype":"${t.datatype}","shape":[${outputShape(t, data).join(',')}],`;
    if (request.binary[r]) {
      s += `"parameters":{"binary_data_size":${data.byteLength}}}`;
      binaryBytes += data.byteLength;
    } else {
      s += `"data":[${jsonElements(data, t.datatype)}]}`;
    }
  }
  s += ']}';
  if (!request.anyBinary) return { kind: 'json', body: s };
  const headerLength = Buffer.byteLength(s);
  const body = Buffer.allocUnsafe(headerLength + binaryBytes);
  body.write(s, 0, 'utf8');
  let at = headerLength;
  for (let r = 0; r < request.outputs.length; r++) {
    if (!request.binary[r]) continue;
    const data = outputs[request.outputs[r]!]!;
    body.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return { kind: 'binary', body, headerLength };
}
