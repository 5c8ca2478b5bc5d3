/** Model metadata in KServe v2 terms: tensor names, datatypes and shapes of a model's inputs and outputs. */
import { UnsupportedModelError } from '@swapless/core';
import { type TfliteModel, tensorTypeName } from '@swapless/tflite';
import type { KServeDatatype, ModelMetadata, TensorMeta } from './types.js';

/**
 * TFLite tensor type → KServe datatype. Only types the runtime exchanges as typed arrays are listed (BOOL as
 * bytes, FLOAT16 as raw 16-bit words); strings, complex numbers, resources and INT4 cannot be served.
 */
const DATATYPES: Readonly<Record<string, KServeDatatype>> = {
  BOOL: 'BOOL',
  UINT8: 'UINT8',
  UINT16: 'UINT16',
  UINT32: 'UINT32',
  UINT64: 'UINT64',
  INT8: 'INT8',
  INT16: 'INT16',
  INT32: 'INT32',
  INT64: 'INT64',
  FLOAT16: 'FP16',
  FLOAT32: 'FP32',
  FLOAT64: 'FP64',
};

function tensorMeta(model: TfliteModel, index: number, what: string): TensorMeta {
  const t = model.subgraphs[0]!.tensors[index]!;
  const type = tensorTypeName(t.type);
  const datatype = DATATYPES[type];
  if (datatype === undefined) {
    throw new UnsupportedModelError(
      `Expected ${what} of a served model to have one of the types ${Object.keys(DATATYPES).join(', ')} but received ${type} (tensor ${JSON.stringify(t.name)})`,
      { details: { reason: 'tensor-type', tensor: t.name, type } },
    );
  }
  return { name: t.name, datatype, shape: Object.freeze([...t.shape]) as number[] };
}

/**
 * The KServe metadata of a model served as `name` (frozen: it is shared by every metadata request).
 * @throws UnsupportedModelError for a model without subgraph or with a tensor type that cannot be served.
 */
export function modelMetadata(name: string, model: TfliteModel): ModelMetadata {
  const g = model.subgraphs[0];
  if (g === undefined) {
    throw new UnsupportedModelError('Expected a model with a subgraph but received a model with none', {
      details: { reason: 'no-subgraph' },
    });
  }
  const inputs = g.inputs.map((i, j) => Object.freeze(tensorMeta(model, i, `input ${j}`)));
  const outputs = g.outputs.map((i, j) => Object.freeze(tensorMeta(model, i, `output ${j}`)));
  return Object.freeze({
    name,
    versions: Object.freeze(['1']) as ['1'],
    platform: 'tflite' as const,
    inputs: Object.freeze(inputs) as TensorMeta[],
    outputs: Object.freeze(outputs) as TensorMeta[],
  });
}
