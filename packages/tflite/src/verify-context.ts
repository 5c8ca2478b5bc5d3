/**
 * What an op rule of the semantic verifier sees (internal): one operator with typed access to its tensors and
 * its options as TFLite's kernels will see them, and the one way to fail — an {@link InvalidModelError} that
 * says what was expected, for which op and tensor, and what the file holds, with a stable `details.rule`.
 */
import { InvalidModelError } from '@swapless/core';
import { hasBufferData } from './analysis.js';
import type { BuiltinOptions, Operator, SubGraph, Tensor, TfliteModel } from './model.js';
import { tensorTypeName } from './model.js';

/** Stable names of the verifier's checks (`details.rule` of its errors): what kind of lie the file told. */
export type VerifyRule =
  | 'operator-code'
  | 'tensor-size'
  | 'tensor-quantization'
  | 'tensor-sparsity'
  | 'graph-dataflow'
  | 'op-arity'
  | 'op-optional-input'
  | 'op-options'
  | 'op-type'
  | 'op-shape'
  | 'op-quantization'
  | 'op-constant';

/** A tensor as an op rule sees it. */
export interface TensorView {
  /** Index in the subgraph's tensors. */
  readonly index: number;
  readonly tensor: Tensor;
  readonly shape: readonly number[];
  readonly type: number;
  readonly rank: number;
  /** True when the tensor has data in the file (TFLite maps it read-only and kernels may read it at prepare). */
  readonly constant: boolean;
  /** Its data when constant. */
  readonly data: Uint8Array | undefined;
  /** `input 1`, `output 0`. */
  readonly role: string;
  /** `op 12 (CONV_2D) input 1 (tensor 34 "conv1/weights")`, for messages. */
  readonly label: string;
}

/** Shapes in messages: `[1,224,224,3]`. */
export const showShape = (shape: readonly number[]): string => `[${shape.join(',')}]`;

/** Tensor names in messages, shortened so a message stays one readable line. */
function showName(name: string): string {
  return name.length > 48 ? `"${name.slice(0, 45)}…"` : JSON.stringify(name);
}

/** Throws the verifier's error: "Expected WHAT for WHERE but received RECEIVED". */
export function fail(
  rule: VerifyRule,
  what: string,
  where: string,
  received: string | number,
  details: Record<string, unknown>,
): never {
  throw new InvalidModelError(`Expected ${what} for ${where} but received ${received}`, {
    details: { rule, ...details },
  });
}

/** One operator under verification. */
export class OpContext {
  /** `op 12 (CONV_2D)`, or `subgraph 1 op 3 (ADD)` outside the main graph. */
  readonly label: string;
  readonly inputCount: number;
  readonly outputCount: number;
  /** The options table TFLite will decode for this op, or undefined when the file has none of that type. */
  private readonly options: BuiltinOptions | undefined;

  constructor(
    readonly model: TfliteModel,
    readonly subgraph: SubGraph,
    readonly subgraphIndex: number,
    readonly opIndex: number,
    readonly op: Operator,
    /** The builtin operator's schema name. */
    readonly name: string,
    /** The options table this op's kernel reads (`Conv2DOptions`), if any. */
    readonly optionsName: string | undefined,
  ) {
    this.label = `${subgraphIndex > 0 ? `subgraph ${subgraphIndex} ` : ''}op ${opIndex} (${name})`;
    this.inputCount = op.inputs.length;
    this.outputCount = op.outputs.length;
    this.options = op.builtinOptions?.name === optionsName ? op.builtinOptions : undefined;
  }

  private view(index: number, role: string): TensorView {
    const tensor = this.subgraph.tensors[index]!;
    const data = hasBufferData(this.model, tensor) ? this.model.buffers[tensor.buffer]!.data : undefined;
    const opLabel = this.label;
    return {
      index,
      tensor,
      shape: tensor.shape,
      type: tensor.type,
      rank: tensor.shape.length,
      constant: data !== undefined,
      data,
      role,
      // Built only when a message needs it: most views never fail.
      get label() {
        return `${opLabel} ${role} (tensor ${index} ${showName(tensor.name)})`;
      },
    };
  }

  /** Input `i`, which the op's rule requires (the arity and optional-input checks ran before). */
  input(i: number): TensorView {
    return this.view(this.op.inputs[i]!, `input ${i}`);
  }

  /** Input `i`, or undefined when it is absent (−1) or beyond the list. */
  optionalInput(i: number): TensorView | undefined {
    const index = this.op.inputs[i];
    return index === undefined || index < 0 ? undefined : this.view(index, `input ${i}`);
  }

  /** Every present input. */
  inputs(): TensorView[] {
    return this.op.inputs.flatMap((index, i) => (index < 0 ? [] : [this.view(index, `input ${i}`)]));
  }

  output(i: number): TensorView {
    return this.view(this.op.outputs[i]!, `output ${i}`);
  }

  outputs(): TensorView[] {
    return this.op.outputs.map((index, i) => this.view(index, `output ${i}`));
  }

  /**
   * An option field as the kernel sees it. TFLite decodes the op's own options table when the file has one
   * (absent fields read as schema defaults) and zero-initialises its parameters otherwise, so a CONV_2D
   * without Conv2DOptions runs with stride 0.
   */
  option(name: string): number {
    const v = this.options?.fields[name];
    return typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : 0;
  }

  /** A vector option field, or undefined when absent. */
  vectorOption(name: string): readonly number[] | undefined {
    const v = this.options?.fields[name];
    return Array.isArray(v) ? v : undefined;
  }

  /** True when the file has this op's options table. */
  get hasOptions(): boolean {
    return this.options !== undefined;
  }

  /** Fails with `rule`; `where` is a tensor view, or a string such as `this.label + ' option stride_w'`. */
  fail(rule: VerifyRule, what: string, where: TensorView | string, received: string | number): never {
    const at = typeof where === 'string' ? where : where.label;
    return fail(rule, what, at, received, {
      subgraph: this.subgraphIndex,
      operator: this.opIndex,
      op: this.name,
      ...(typeof where === 'string' ? {} : { tensor: where.index }),
    });
  }

  // ----- common checks, named for what they protect

  /** The tensor's rank is `rank` (or within [min, max]). */
  rank(t: TensorView, min: number, max = min): void {
    if (t.rank < min || t.rank > max) {
      const want = min === max ? `rank ${min}` : `a rank in [${min}, ${max}]`;
      this.fail('op-shape', `a tensor of ${want}`, t, `rank ${t.rank} ${showShape(t.shape)}`);
    }
  }

  /** The tensor's type is one of `types`. */
  type(t: TensorView, types: readonly number[], why = ''): void {
    if (!types.includes(t.type)) {
      const names = types.map(tensorTypeName);
      const want = names.length === 1 ? names[0]! : `one of ${names.join(', ')}`;
      this.fail('op-type', `${want}${why}`, t, tensorTypeName(t.type));
    }
  }

  /** `t` has the same type as `like` (the kernel reads both with one element type). */
  sameType(t: TensorView, like: TensorView): void {
    if (t.type !== like.type) {
      this.fail('op-type', `${tensorTypeName(like.type)} like ${like.role}`, t, tensorTypeName(t.type));
    }
  }

  /** `t` has exactly `shape` (declared shapes must agree: XNNPACK and some kernels use them as they are). */
  shape(t: TensorView, shape: readonly number[], why = ''): void {
    if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      this.fail('op-shape', `shape ${showShape(shape)}${why}`, t, showShape(t.shape));
    }
  }

  /** The tensor's data is in the file (the kernel reads it while preparing, before any input exists). */
  constant(t: TensorView, why: string): void {
    if (!t.constant) this.fail('op-constant', `a constant tensor (${why})`, t, 'a tensor without data');
  }

  /**
   * Quantized kernels derive fixed-point multipliers from scales at prepare: a missing, zero, negative or
   * non-finite scale makes TFLite abort (or divide by zero) instead of returning an error.
   */
  quantized(t: TensorView, perChannel?: { count: number; axis: number }): void {
    const q = t.tensor.quantization;
    const scales = q?.scale ?? [];
    if (scales.length === 0) this.fail('op-quantization', 'quantization parameters (a scale)', t, 'none');
    if (perChannel !== undefined && scales.length !== 1) {
      if (scales.length !== perChannel.count) {
        this.fail('op-quantization', `1 or ${perChannel.count} quantization scales`, t, `${scales.length}`);
      }
      if (q!.quantizedDimension !== perChannel.axis) {
        this.fail(
          'op-quantization',
          `per-channel scales on dimension ${perChannel.axis}`,
          t,
          `dimension ${q!.quantizedDimension}`,
        );
      }
    }
    // Weights may carry a zero scale (an all-zero channel): it only makes a multiplier of 0, which TFLite handles.
    const zeroOk = perChannel !== undefined;
    for (const s of scales) {
      if (!((zeroOk ? s >= 0 : s > 0) && s < Number.POSITIVE_INFINITY)) {
        const want = zeroOk
          ? 'finite non-negative quantization scales'
          : 'positive finite quantization scales';
        this.fail('op-quantization', want, t, `scale ${s}`);
      }
    }
  }

  /** The first quantization scale of a tensor (what per-tensor kernels read), 0 when there is none. */
  scale(t: TensorView): number {
    return t.tensor.quantization?.scale?.[0] ?? 0;
  }

  /** An option scalar lies in [min, max]. */
  optionRange(name: string, schemaName: string, min: number, max: number): number {
    const v = this.option(name);
    if (!(v >= min && v <= max)) {
      const absent = this.hasOptions ? '' : ` (the op has no ${this.optionsName}, so TFLite uses 0)`;
      this.fail(
        'op-options',
        `${schemaName} in [${min}, ${max}]`,
        `${this.label} option ${schemaName}`,
        `${v}${absent}`,
      );
    }
    return v;
  }

  /** An option is one of a few enum values. */
  optionEnum(name: string, schemaName: string, values: readonly number[]): number {
    const v = this.option(name);
    if (!values.includes(v)) {
      this.fail(
        'op-options',
        `${schemaName} one of ${values.join(', ')}`,
        `${this.label} option ${schemaName}`,
        v,
      );
    }
    return v;
  }

  /** An axis in [−rank, rank), normalised to [0, rank). */
  axis(value: number, rank: number, what: string): number {
    if (!(Number.isInteger(value) && value >= -rank && value < rank)) {
      this.fail('op-options', `an axis in [${-rank}, ${rank})`, `${this.label} ${what}`, value);
    }
    return value < 0 ? value + rank : value;
  }

  /** The values of a constant integer tensor (INT32 or INT64), or undefined when it is not constant. */
  intValues(t: TensorView): number[] | undefined {
    if (t.data === undefined) return undefined;
    const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (t.type === 2)
      return Array.from({ length: t.data.byteLength >> 2 }, (_, i) => view.getInt32(4 * i, true));
    if (t.type === 4) {
      return Array.from({ length: t.data.byteLength >> 3 }, (_, i) => Number(view.getBigInt64(8 * i, true)));
    }
    return undefined;
  }
}
