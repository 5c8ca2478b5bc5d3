// Test-only helpers: hand-made TfliteModel graphs for analysis, cuts and split tests. Not exported by the package.
import type {
  BuiltinOptions,
  ModelBuffer,
  Operator,
  OperatorCode,
  Quantization,
  Tensor,
  TfliteModel,
} from './model.js';
import { TensorType } from './model.js';

/** Options of {@link TinyGraph.tensor}. */
export interface TinyTensorOptions {
  type?: number;
  /** Constant data: the tensor gets its own buffer. */
  data?: Uint8Array;
  quantized?: boolean;
  shapeSignature?: number[];
}

/** A minimal graph builder: no validation, no arithmetic, just the structure tests need. */
export class TinyGraph {
  readonly tensors: Tensor[] = [];
  readonly buffers: ModelBuffer[] = [{}];
  readonly operators: Operator[] = [];
  readonly operatorCodes: OperatorCode[] = [];

  /** Adds a tensor and returns its index. */
  tensor(name: string, shape: number[], options: TinyTensorOptions = {}): number {
    let buffer = 0;
    if (options.data !== undefined) {
      buffer = this.buffers.length;
      this.buffers.push({ data: options.data });
    }
    const quantization: Quantization | undefined = options.quantized
      ? { scale: [0.05], zeroPoint: [0], quantizedDimension: 0 }
      : undefined;
    const tensor: Tensor = {
      shape,
      type: options.type ?? TensorType.FLOAT32,
      buffer,
      name,
      isVariable: false,
      hasRank: true,
    };
    if (quantization !== undefined) tensor.quantization = quantization;
    if (options.shapeSignature !== undefined) tensor.shapeSignature = options.shapeSignature;
    this.tensors.push(tensor);
    return this.tensors.length - 1;
  }

  /** A constant tensor filled with `byteLength` bytes of `fill`. */
  constant(name: string, shape: number[], type: number, byteLength: number, fill = 1): number {
    return this.tensor(name, shape, { type, data: new Uint8Array(byteLength).fill(fill) });
  }

  /** Adds an operator and returns its index. */
  op(builtinCode: number, inputs: number[], outputs: number[], options?: BuiltinOptions): number {
    let opcodeIndex = this.operatorCodes.findIndex((c) => c.builtinCode === builtinCode);
    if (opcodeIndex < 0) {
      opcodeIndex = this.operatorCodes.length;
      this.operatorCodes.push({ builtinCode, version: 1 });
    }
    const op: Operator = { opcodeIndex, inputs, outputs, customOptionsFormat: 0 };
    if (options !== undefined) op.builtinOptions = options;
    this.operators.push(op);
    return this.operators.length - 1;
  }

  /** The finished model. */
  model(inputs: number[], outputs: number[]): TfliteModel {
    return {
      version: 3,
      operatorCodes: this.operatorCodes,
      subgraphs: [{ tensors: this.tensors, inputs, outputs, operators: this.operators, name: 'main' }],
      buffers: this.buffers,
      description: 'tiny',
      metadata: [
        { name: 'min_runtime_version', buffer: this.addBuffer(new TextEncoder().encode('1.5.0\0\0\0')) },
        { name: 'CONVERSION_METADATA', buffer: this.addBuffer(new Uint8Array([1, 2, 3])) },
        // A stand-in model card: it describes the whole model's inputs and outputs, so parts drop it.
        { name: 'TFLITE_METADATA', buffer: this.addBuffer(new Uint8Array([4, 5, 6, 7])) },
      ],
      signatureDefs: [
        {
          inputs: inputs.map((t) => ({ name: this.tensors[t]!.name, tensorIndex: t })),
          outputs: outputs.map((t) => ({ name: this.tensors[t]!.name, tensorIndex: t })),
          signatureKey: 'serving_default',
          subgraphIndex: 0,
        },
      ],
    };
  }

  private addBuffer(data: Uint8Array): number {
    this.buffers.push({ data });
    return this.buffers.length - 1;
  }
}

/** Conv2DOptions with the given stride and activation. */
export function convOptions(stride = 1, fusedActivationFunction = 0): BuiltinOptions {
  return {
    type: 1,
    name: 'Conv2DOptions',
    fields: {
      padding: 0,
      strideW: stride,
      strideH: stride,
      fusedActivationFunction,
      dilationWFactor: 1,
      dilationHFactor: 1,
    },
  };
}

/** AddOptions. */
export function addOptions(): BuiltinOptions {
  return { type: 11, name: 'AddOptions', fields: { fusedActivationFunction: 0 } };
}
