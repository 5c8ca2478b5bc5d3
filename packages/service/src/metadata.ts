/** Model metadata in KServe v2 terms: tensor names, datatypes and shapes of a model's inputs and outputs. */
import type { ModelMetadata, TensorMeta } from '@swapless/contracts';
import { UnsupportedModelError } from '@swapless/core';
import { INFERENCE_DATATYPES, inferenceDatatype, type TfliteModel, tensorTypeName } from '@swapless/tflite';

function tensorMeta(model: TfliteModel, index: number, what: string): TensorMeta {
  const t = model.subgraphs[0]!.tensors[index]!;
  const type = tensorTypeName(t.type);
  const datatype = inferenceDatatype(type);
  if (datatype === undefined) {
    throw new UnsupportedModelError(
      `Expected ${what} of a served model to have one of the types ${Object.keys(INFERENCE_DATATYPES).join(', ')} but received ${type} (tensor ${JSON.stringify(t.name)})`,
      { details: { reason: 'tensor-type', tensor: t.name, type } },
    );
  }
  return { name: t.name, datatype, shape: Object.freeze([...t.shape]) };
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
    versions: Object.freeze(['1']),
    platform: 'tflite',
    inputs: Object.freeze(inputs),
    outputs: Object.freeze(outputs),
  });
}
