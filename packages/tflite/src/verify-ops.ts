/**
 * The op table of the semantic verifier (internal): for every builtin op that the zoo, Coral's models and
 * MediaPipe's models use, what TFLite 2.9's kernel (and XNNPACK, which is on by default) assumes about its
 * inputs, outputs and options without checking. Each rule checks counts, ranks, element types that must
 * agree, the declared output shape against the shape the kernel will compute from the declared inputs (XNNPACK
 * plans its buffers from declared shapes), option scalars (strides ≥ 1, axes in range, enums), and the
 * quantization a quantized kernel turns into fixed-point multipliers. Sources: docs/tflite-format.md.
 */
import { TensorType as T, tensorTypeName } from './model.js';
import { BuiltinOperator as OP } from './ops.js';
import { type OpContext, showShape, type TensorView } from './verify-context.js';

/** What the verifier knows about one builtin op. */
export interface OpRule {
  /** Allowed input count [min, max]. */
  readonly inputs: readonly [number, number];
  /** Allowed output count [min, max]. */
  readonly outputs: readonly [number, number];
  /** Input positions that may be −1 (absent). */
  readonly optional?: readonly number[];
  /** The options table of this op in the schema; a table of another type is refused. */
  readonly options?: string;
  /** Op-specific checks, run after the counts, optional inputs and the dataflow. */
  readonly check: (ctx: OpContext) => void;
}

const QUANTIZED: readonly number[] = [T.INT8, T.UINT8, T.INT16];
const ACTIVATION_TYPES: readonly number[] = [T.FLOAT32, T.UINT8, T.INT8, T.INT16];
/** ActivationFunctionType: NONE, RELU, RELU_N1_TO_1, RELU6, TANH, SIGN_BIT. */
const ACTIVATIONS: readonly number[] = [0, 1, 2, 3, 4, 5];
/** Padding: SAME, VALID. */
const PADDINGS: readonly number[] = [0, 1];
/**
 * Bound on strides, dilations, window and block sizes. TFLite computes window arithmetic in 32-bit ints
 * ((size + stride − 1), (filter − 1) · dilation + 1); no real model comes near this, and below it that
 * arithmetic cannot overflow for a tensor that passed the size check.
 */
const MAX_WINDOW = 1 << 16;
const INF = Number.POSITIVE_INFINITY;

const isQuantized = (t: TensorView) => QUANTIZED.includes(t.type);
const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Every quantized tensor among `views` needs usable scales (see {@link OpContext.quantized}). */
function quantizedTensors(ctx: OpContext, ...views: TensorView[]): void {
  for (const v of views) if (isQuantized(v)) ctx.quantized(v);
}

function activation(ctx: OpContext): void {
  ctx.optionEnum('fusedActivationFunction', 'fused_activation_function', ACTIVATIONS);
}

/** Every dimension ≥ 1: kernels divide by dimensions and size loops by them. */
function nonEmpty(ctx: OpContext, t: TensorView): void {
  const zero = t.shape.indexOf(0);
  if (zero >= 0) ctx.fail('op-shape', 'no dimension of size 0', t, showShape(t.shape));
}

/** NumPy broadcasting of two shapes, or undefined when they do not broadcast. */
function broadcast(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

// ----- families

/** ADD, SUB, MUL, DIV, FLOOR_DIV: two inputs of one type, broadcast, output of that type. */
function binary(types: readonly number[], options: string, fused: boolean, addLike = false): OpRule {
  return {
    inputs: [2, 2],
    outputs: [1, 1],
    options,
    check(ctx: OpContext) {
      const a = ctx.input(0);
      const b = ctx.input(1);
      const out = ctx.output(0);
      ctx.type(a, types);
      ctx.sameType(b, a);
      ctx.sameType(out, a);
      const shape = broadcast(a.shape, b.shape);
      if (shape === undefined) {
        ctx.fail('op-shape', `a shape that broadcasts with ${showShape(a.shape)}`, b, showShape(b.shape));
      }
      // The broadcasting kernels of TFLite 2.9 extend shapes to 4-D and abort on more.
      const same = a.rank === b.rank && a.shape.every((d, i) => d === b.shape[i]);
      if (!same) for (const t of [a, b]) ctx.rank(t, 0, 4);
      ctx.shape(out, shape, ' (the broadcast of the inputs)');
      if (fused) activation(ctx);
      quantizedTensors(ctx, a, b, out);
      if (addLike && isQuantized(a)) {
        // The quantized ADD/SUB kernels rescale both inputs to 2·max(input scales) · 2^-shift and turn that over
        // the output scale into a multiplier that must be below 1 (TFLite aborts otherwise): shift 20 for 8-bit.
        const shift = a.type === T.INT16 ? 15 : 20;
        const ratio = (2 * Math.max(ctx.scale(a), ctx.scale(b))) / (2 ** shift * ctx.scale(out));
        if (!(ratio < 1)) {
          ctx.fail(
            'op-quantization',
            `an output scale above 2·max(input scales)/2^${shift} = ${(ratio * ctx.scale(out)).toPrecision(3)}`,
            out,
            `scale ${ctx.scale(out)}`,
          );
        }
      }
    },
  };
}

/** Element-wise unary ops: output of the input's shape and type. */
function unary(types: readonly number[], options?: string): OpRule {
  return {
    inputs: [1, 1],
    outputs: [1, 1],
    ...(options ? { options } : {}),
    check(ctx: OpContext) {
      const x = ctx.input(0);
      const out = ctx.output(0);
      ctx.type(x, types);
      ctx.sameType(out, x);
      ctx.shape(out, x.shape, ' (the input shape)');
      quantizedTensors(ctx, x, out);
    },
  };
}

/**
 * The spatial output size TFLite computes (ComputeOutSize): SAME ⌈in/stride⌉, VALID
 * trunc((in + stride − effective filter) / stride); must be ≥ 1.
 */
function windowOutput(
  inDim: number,
  filter: number,
  stride: number,
  dilation: number,
  padding: number,
): number {
  const effective = (filter - 1) * dilation + 1;
  return padding === 0 ? Math.ceil(inDim / stride) : Math.trunc((inDim + stride - effective) / stride);
}

/** Reads and checks the window options shared by convolutions and pools; returns [outH, outW]. */
function window(
  ctx: OpContext,
  input: TensorView,
  filterH: number,
  filterW: number,
  dilations: boolean,
): [number, number] {
  const padding = ctx.optionEnum('padding', 'padding', PADDINGS);
  const sh = ctx.optionRange('strideH', 'stride_h', 1, MAX_WINDOW);
  const sw = ctx.optionRange('strideW', 'stride_w', 1, MAX_WINDOW);
  const dh = dilations ? ctx.optionRange('dilationHFactor', 'dilation_h_factor', 1, MAX_WINDOW) : 1;
  const dw = dilations ? ctx.optionRange('dilationWFactor', 'dilation_w_factor', 1, MAX_WINDOW) : 1;
  for (const [k, d, what] of [
    [filterH, dh, 'height'],
    [filterW, dw, 'width'],
  ] as const) {
    if ((k - 1) * d + 1 > MAX_WINDOW) {
      ctx.fail(
        'op-options',
        `an effective filter ${what} ≤ ${MAX_WINDOW}`,
        ctx.label,
        `${k} × dilation ${d}`,
      );
    }
  }
  activation(ctx);
  const oh = windowOutput(input.shape[1]!, filterH, sh, dh, padding);
  const ow = windowOutput(input.shape[2]!, filterW, sw, dw, padding);
  if (oh < 1 || ow < 1) {
    ctx.fail(
      'op-shape',
      'a window that fits the input',
      input,
      `${showShape(input.shape)} for a ${filterH}×${filterW} window (output ${oh}×${ow})`,
    );
  }
  return [oh, ow];
}

function pool(): OpRule {
  return {
    inputs: [1, 1],
    outputs: [1, 1],
    options: 'Pool2DOptions',
    check(ctx: OpContext) {
      const x = ctx.input(0);
      const out = ctx.output(0);
      ctx.rank(x, 4);
      ctx.type(x, ACTIVATION_TYPES);
      ctx.sameType(out, x);
      nonEmpty(ctx, x);
      const fh = ctx.optionRange('filterHeight', 'filter_height', 1, MAX_WINDOW);
      const fw = ctx.optionRange('filterWidth', 'filter_width', 1, MAX_WINDOW);
      const [oh, ow] = window(ctx, x, fh, fw, false);
      ctx.shape(out, [x.shape[0]!, oh, ow, x.shape[3]!]);
      quantizedTensors(ctx, x, out);
    },
  };
}

/** Weight, bias and output types a convolution kernel accepts for each input type. */
function convTypes(
  ctx: OpContext,
  x: TensorView,
  w: TensorView,
  bias: TensorView | undefined,
  out: TensorView,
) {
  ctx.type(x, ACTIVATION_TYPES);
  ctx.sameType(out, x);
  if (x.type === T.FLOAT32) {
    // Float, or hybrid (int8/uint8 weights dequantized on the fly; bias stays float).
    ctx.type(w, [T.FLOAT32, T.INT8, T.UINT8], ' (float32 weights, or int8/uint8 for a hybrid kernel)');
    if (bias) ctx.type(bias, [T.FLOAT32]);
  } else if (x.type === T.INT16) {
    ctx.type(w, [T.INT8], ' (16×8 quantized kernel)');
    if (bias) ctx.type(bias, [T.INT64, T.INT32]);
  } else {
    ctx.sameType(w, x);
    if (bias) ctx.type(bias, [T.INT32], ' (quantized kernels add 32-bit biases)');
  }
}

/** Quantized convolution kernels (TFLite 2.9's optimized int8 depthwise among them) add the bias unconditionally. */
function quantizedBias(ctx: OpContext, x: TensorView, bias: TensorView | undefined): void {
  if (isQuantized(x) && bias === undefined) {
    const given = ctx.inputCount > 2 ? -1 : 'no input 2';
    ctx.fail(
      'op-optional-input',
      'a bias tensor (quantized kernels always add one)',
      `${ctx.label} input 2`,
      given,
    );
  }
}

/** Quantization of a convolution's tensors: per-tensor activations, per-channel weights on `axis`. */
function convQuantization(ctx: OpContext, x: TensorView, w: TensorView, out: TensorView, axis: number): void {
  if (isQuantized(x)) {
    ctx.quantized(x);
    ctx.quantized(out);
  }
  if (isQuantized(w)) ctx.quantized(w, { count: w.shape[axis]!, axis });
}

/**
 * CONV_2D and DEPTHWISE_CONV_2D: an NHWC input, 4-D weights, an optional bias. `filter` checks the weights'
 * layout against the input and returns [kernel height, kernel width, output channels]; `weightAxis` is the
 * output-channel axis of per-channel weight scales.
 */
function convolution(
  options: string,
  weightAxis: number,
  filter: (ctx: OpContext, x: TensorView, w: TensorView) => [number, number, number],
): OpRule {
  return {
    inputs: [2, 3],
    outputs: [1, 1],
    optional: [2],
    options,
    check(ctx: OpContext) {
      const x = ctx.input(0);
      const w = ctx.input(1);
      const bias = ctx.optionalInput(2);
      const out = ctx.output(0);
      ctx.rank(x, 4);
      ctx.rank(w, 4);
      nonEmpty(ctx, x);
      nonEmpty(ctx, w);
      convTypes(ctx, x, w, bias, out);
      quantizedBias(ctx, x, bias);
      const [kh, kw, cout] = filter(ctx, x, w);
      if (bias) ctx.shape(bias, [cout], ' (one bias per output channel)');
      const [oh, ow] = window(ctx, x, kh, kw, true);
      ctx.shape(out, [x.shape[0]!, oh, ow, cout]);
      convQuantization(ctx, x, w, out, weightAxis);
    },
  };
}

const conv2d = convolution('Conv2DOptions', 0, (ctx, x, w) => {
  const [cout, kh, kw, cf] = w.shape as [number, number, number, number];
  const cin = x.shape[3]!;
  // Grouped convolution: the filter's input depth divides the input's, and the groups divide the outputs.
  if (cin % cf !== 0) {
    ctx.fail('op-shape', `a filter input depth that divides the input depth ${cin}`, w, showShape(w.shape));
  }
  if (cout % (cin / cf) !== 0) {
    ctx.fail('op-shape', `an output depth divisible by the ${cin / cf} groups`, w, showShape(w.shape));
  }
  return [kh, kw, cout];
});

const depthwiseConv2d = convolution('DepthwiseConv2DOptions', 3, (ctx, x, w) => {
  const [one, kh, kw, cout] = w.shape as [number, number, number, number];
  const cin = x.shape[3]!;
  if (one !== 1)
    ctx.fail('op-shape', 'a filter of shape [1, height, width, channels]', w, showShape(w.shape));
  const multiplier = ctx.optionRange('depthMultiplier', 'depth_multiplier', 1, MAX_WINDOW);
  // XNNPACK derives the input depth as output depth / multiplier; the reference kernel assumes the product.
  if (multiplier * cin !== cout) {
    ctx.fail(
      'op-shape',
      `${multiplier * cin} filter channels (depth_multiplier ${multiplier} × input depth ${cin})`,
      w,
      showShape(w.shape),
    );
  }
  return [kh, kw, cout];
});

const fullyConnected: OpRule = {
  inputs: [2, 3],
  outputs: [1, 1],
  optional: [2],
  options: 'FullyConnectedOptions',
  check(ctx: OpContext) {
    const x = ctx.input(0);
    const w = ctx.input(1);
    const bias = ctx.optionalInput(2);
    const out = ctx.output(0);
    ctx.rank(x, 1, 6);
    ctx.rank(w, 2);
    nonEmpty(ctx, w);
    nonEmpty(ctx, x);
    ctx.type(x, ACTIVATION_TYPES);
    const format = ctx.optionEnum('weightsFormat', 'weights_format', [0, 1]);
    // The uint8 kernel may write int16; every other kernel writes its input type.
    ctx.type(out, x.type === T.UINT8 ? [T.UINT8, T.INT16] : [x.type]);
    if (x.type === T.FLOAT32)
      ctx.type(w, [T.FLOAT32, T.INT8, T.UINT8], ' (float32 weights, or int8/uint8 for a hybrid kernel)');
    else if (x.type === T.INT16) ctx.type(w, [T.INT8], ' (16×8 quantized kernel)');
    else ctx.sameType(w, x);
    if (bias)
      ctx.type(
        bias,
        x.type === T.FLOAT32 ? [T.FLOAT32] : x.type === T.INT16 ? [T.INT64, T.INT32] : [T.INT32],
      );
    const [units, depth] = w.shape as [number, number];
    const elements = product(x.shape);
    if (elements % depth !== 0) {
      ctx.fail(
        'op-shape',
        `an input whose size is a multiple of the weights' depth ${depth}`,
        x,
        showShape(x.shape),
      );
    }
    if (bias) ctx.shape(bias, [units], ' (one bias per unit)');
    const keep = ctx.option('keepNumDims') !== 0;
    if (keep && x.shape[x.rank - 1] !== depth) {
      ctx.fail('op-shape', `a last dimension of ${depth} (keep_num_dims)`, x, showShape(x.shape));
    }
    ctx.shape(out, keep ? [...x.shape.slice(0, -1), units] : [elements / depth, units]);
    activation(ctx);
    if (format === 1) {
      // SHUFFLED4x16INT8: the shuffled kernel assumes uint8 in, int16 out, 4-row and 16-column blocks.
      const batches = elements / depth;
      if (
        x.type !== T.UINT8 ||
        out.type !== T.INT16 ||
        units % 4 !== 0 ||
        depth % 16 !== 0 ||
        (batches !== 1 && batches !== 4)
      ) {
        ctx.fail(
          'op-options',
          'uint8 input, int16 output, units % 4 = 0, depth % 16 = 0 and 1 or 4 batches for shuffled weights',
          `${ctx.label} option weights_format`,
          `${tensorTypeName(x.type)} → ${tensorTypeName(out.type)}, weights ${showShape(w.shape)}, ${batches} batches`,
        );
      }
    }
    if (isQuantized(x)) {
      ctx.quantized(x);
      ctx.quantized(out);
    }
    if (isQuantized(w)) ctx.quantized(w, { count: units, axis: 0 });
  },
};

const concatenation: OpRule = {
  inputs: [1, INF],
  outputs: [1, 1],
  options: 'ConcatenationOptions',
  check(ctx: OpContext) {
    const parts = ctx.inputs();
    const out = ctx.output(0);
    const first = parts[0]!;
    const axis = ctx.axis(ctx.option('axis'), Math.max(first.rank, 1), 'option axis');
    const shape = [...first.shape];
    for (const p of parts) {
      ctx.sameType(p, first);
      if (p.rank !== first.rank || p.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
        ctx.fail(
          'op-shape',
          `a shape like ${showShape(first.shape)} except on axis ${axis}`,
          p,
          showShape(p.shape),
        );
      }
      if (p !== first) shape[axis]! += p.shape[axis]!;
    }
    ctx.sameType(out, first);
    ctx.shape(out, shape, ' (the concatenation of the inputs)');
    activation(ctx);
    quantizedTensors(ctx, ...parts, out);
  },
};

/** Resolves a RESHAPE target with at most one −1 against `elements`, or undefined when it cannot hold them. */
function resolveShape(target: readonly number[], elements: number): number[] | undefined {
  const unknown = target.filter((d) => d === -1).length;
  if (unknown > 1 || target.some((d) => d < -1)) return undefined;
  const known = target.reduce((a, d) => (d === -1 ? a : a * d), 1);
  if (unknown === 0) return known === elements ? [...target] : undefined;
  if (known === 0 || elements % known !== 0) return undefined;
  return target.map((d) => (d === -1 ? elements / known : d));
}

const reshape: OpRule = {
  inputs: [1, 2],
  outputs: [1, 1],
  options: 'ReshapeOptions',
  check(ctx: OpContext) {
    const x = ctx.input(0);
    const out = ctx.output(0);
    ctx.sameType(out, x);
    const elements = product(x.shape);
    if (product(out.shape) !== elements) {
      ctx.fail('op-shape', `a shape of ${elements} elements (the input's)`, out, showShape(out.shape));
    }
    const shapeInput = ctx.optionalInput(1);
    if (shapeInput !== undefined) ctx.type(shapeInput, [T.INT32]);
    // TFLite takes the target from a 1-D shape tensor when there is one, else from new_shape.
    const target =
      shapeInput !== undefined && shapeInput.rank === 1
        ? ctx.intValues(shapeInput)
        : ctx.vectorOption('newShape');
    if (target !== undefined && !(target.length === 1 && target[0] === 0 && out.rank === 0)) {
      const resolved = resolveShape(target, elements);
      if (resolved === undefined) {
        ctx.fail(
          'op-shape',
          `a target shape that holds the input's ${elements} elements`,
          ctx.label,
          showShape(target),
        );
      }
      ctx.shape(out, resolved, ` (the target shape ${showShape(target)})`);
    }
    quantizedTensors(ctx, x, out);
  },
};

const squeeze: OpRule = {
  inputs: [1, 1],
  outputs: [1, 1],
  options: 'SqueezeOptions',
  check(ctx: OpContext) {
    const x = ctx.input(0);
    const out = ctx.output(0);
    ctx.sameType(out, x);
    ctx.rank(x, 0, 8);
    const dims = ctx.vectorOption('squeezeDims') ?? [];
    const drop = new Set(dims.map((d) => ctx.axis(d, x.rank, 'option squeeze_dims')));
    for (const d of drop) {
      if (x.shape[d] !== 1) ctx.fail('op-shape', `size 1 on squeezed dimension ${d}`, x, showShape(x.shape));
    }
    const keep = x.shape.filter((d, i) => (drop.size === 0 ? d !== 1 : !drop.has(i)));
    ctx.shape(out, keep);
    quantizedTensors(ctx, x, out);
  },
};

const mean: OpRule = {
  inputs: [2, 2],
  outputs: [1, 1],
  options: 'ReducerOptions',
  check(ctx: OpContext) {
    const x = ctx.input(0);
    const axes = ctx.input(1);
    const out = ctx.output(0);
    ctx.type(x, [...ACTIVATION_TYPES, T.INT32, T.INT64]);
    ctx.sameType(out, x);
    ctx.type(axes, [T.INT32, T.INT64]);
    ctx.rank(axes, 0, 1);
    const values = ctx.intValues(axes);
    if (values !== undefined) {
      const reduced = new Set(values.map((a) => ctx.axis(a, x.rank, 'input 1 value')));
      const keep = ctx.option('keepDims') !== 0;
      const shape = keep
        ? x.shape.map((d, i) => (reduced.has(i) ? 1 : d))
        : x.shape.filter((_, i) => !reduced.has(i));
      ctx.shape(out, shape, ` (the input reduced over ${showShape([...reduced])})`);
    }
    quantizedTensors(ctx, x, out);
  },
};

const pad: OpRule = {
  inputs: [2, 2],
  outputs: [1, 1],
  options: 'PadOptions',
  check(ctx: OpContext) {
    const x = ctx.input(0);
    const paddings = ctx.input(1);
    const out = ctx.output(0);
    ctx.sameType(out, x);
    ctx.rank(x, 0, 5);
    ctx.type(paddings, [T.INT32, T.INT64]);
    ctx.shape(paddings, [x.rank, 2], ' (before and after for each input dimension)');
    const values = ctx.intValues(paddings);
    if (values !== undefined) {
      if (values.some((v) => v < 0)) ctx.fail('op-shape', 'paddings ≥ 0', paddings, showShape(values));
      ctx.shape(
        out,
        x.shape.map((d, i) => d + values[2 * i]! + values[2 * i + 1]!),
        ' (the padded input)',
      );
    }
    quantizedTensors(ctx, x, out);
  },
};

const resizeBilinear: OpRule = {
  inputs: [2, 2],
  outputs: [1, 1],
  options: 'ResizeBilinearOptions',
  check(ctx: OpContext) {
    const x = ctx.input(0);
    const size = ctx.input(1);
    const out = ctx.output(0);
    ctx.rank(x, 4);
    ctx.type(x, ACTIVATION_TYPES);
    ctx.sameType(out, x);
    nonEmpty(ctx, x);
    ctx.type(size, [T.INT32]);
    ctx.shape(size, [2], ' (new height and width)');
    const values = ctx.intValues(size);
    if (values !== undefined) {
      if (values.some((v) => v < 1)) ctx.fail('op-shape', 'a size of at least 1×1', size, showShape(values));
      ctx.shape(out, [x.shape[0]!, values[0]!, values[1]!, x.shape[3]!]);
    }
    quantizedTensors(ctx, x, out);
  },
};

const argMax: OpRule = {
  inputs: [2, 2],
  outputs: [1, 1],
  options: 'ArgMaxOptions',
  check(ctx: OpContext) {
    const x = ctx.input(0);
    const axis = ctx.input(1);
    const out = ctx.output(0);
    ctx.rank(x, 1, 8);
    nonEmpty(ctx, x);
    ctx.type(axis, [T.INT32, T.INT64]);
    if (product(axis.shape) !== 1) ctx.fail('op-shape', 'a single axis', axis, showShape(axis.shape));
    const outputType = ctx.optionEnum('outputType', 'output_type', [T.INT32, T.INT64]);
    ctx.type(out, [outputType], ' (the output_type option)');
    const values = ctx.intValues(axis);
    if (values !== undefined) {
      const a = ctx.axis(values[0]!, x.rank, 'input 1 value');
      ctx.shape(
        out,
        x.shape.filter((_, i) => i !== a),
      );
    }
  },
};

const pack: OpRule = {
  inputs: [1, INF],
  outputs: [1, 1],
  options: 'PackOptions',
  check(ctx: OpContext) {
    const parts = ctx.inputs();
    const out = ctx.output(0);
    const first = parts[0]!;
    const count = ctx.option('valuesCount');
    if (count !== parts.length) {
      ctx.fail(
        'op-options',
        `values_count equal to the ${parts.length} inputs`,
        `${ctx.label} option values_count`,
        count,
      );
    }
    const axis = ctx.axis(ctx.option('axis'), first.rank + 1, 'option axis');
    for (const p of parts) {
      ctx.sameType(p, first);
      ctx.shape(p, first.shape, ' (every packed input has the same shape)');
    }
    ctx.sameType(out, first);
    ctx.shape(out, [...first.shape.slice(0, axis), parts.length, ...first.shape.slice(axis)]);
    quantizedTensors(ctx, ...parts, out);
  },
};

const unpack: OpRule = {
  inputs: [1, 1],
  outputs: [1, INF],
  options: 'UnpackOptions',
  check(ctx: OpContext) {
    const x = ctx.input(0);
    const outs = ctx.outputs();
    ctx.rank(x, 1, 8);
    const axis = ctx.axis(ctx.option('axis'), x.rank, 'option axis');
    const num = ctx.option('num');
    if (num !== outs.length || x.shape[axis] !== num) {
      ctx.fail(
        'op-options',
        `num equal to the ${outs.length} outputs and to dimension ${axis} of the input ${showShape(x.shape)}`,
        `${ctx.label} option num`,
        num,
      );
    }
    const shape = x.shape.filter((_, i) => i !== axis);
    for (const o of outs) {
      ctx.sameType(o, x);
      ctx.shape(o, shape);
    }
    quantizedTensors(ctx, x, ...outs);
  },
};

const gatherNd: OpRule = {
  inputs: [2, 2],
  outputs: [1, 1],
  options: 'GatherNdOptions',
  check(ctx: OpContext) {
    const params = ctx.input(0);
    const indices = ctx.input(1);
    const out = ctx.output(0);
    ctx.rank(params, 1, 8);
    ctx.rank(indices, 1, 8);
    ctx.type(indices, [T.INT32, T.INT64]);
    ctx.sameType(out, params);
    const nd = indices.shape[indices.rank - 1]!;
    if (nd < 1 || nd > params.rank) {
      ctx.fail(
        'op-shape',
        `an index depth (last dimension) in [1, ${params.rank}]`,
        indices,
        showShape(indices.shape),
      );
    }
    ctx.shape(out, [...indices.shape.slice(0, -1), ...params.shape.slice(nd)]);
    const values = ctx.intValues(indices);
    values?.forEach((v, i) => {
      const dim = params.shape[i % nd]!;
      if (v < 0 || v >= dim)
        ctx.fail(
          'op-shape',
          `indices within ${showShape(params.shape)}`,
          indices,
          `index ${v} for dimension ${i % nd}`,
        );
    });
  },
};

const depthToSpace: OpRule = {
  inputs: [1, 1],
  outputs: [1, 1],
  options: 'DepthToSpaceOptions',
  check(ctx: OpContext) {
    const x = ctx.input(0);
    const out = ctx.output(0);
    ctx.rank(x, 4);
    ctx.sameType(out, x);
    const b = ctx.optionRange('blockSize', 'block_size', 1, MAX_WINDOW);
    const [n, h, w, c] = x.shape as [number, number, number, number];
    if (c % (b * b) !== 0)
      ctx.fail('op-shape', `a depth divisible by block_size² = ${b * b}`, x, showShape(x.shape));
    ctx.shape(out, [n, h * b, w * b, c / (b * b)]);
    quantizedTensors(ctx, x, out);
  },
};

const densify: OpRule = {
  inputs: [1, 1],
  outputs: [1, 1],
  options: 'DensifyOptions',
  check(ctx: OpContext) {
    const x = ctx.input(0);
    const out = ctx.output(0);
    ctx.constant(x, 'DENSIFY expands a sparse constant');
    ctx.sameType(out, x);
    ctx.shape(out, x.shape, ' (the dense shape of the input)');
  },
};

const dequantize: OpRule = {
  inputs: [1, 1],
  outputs: [1, 1],
  options: 'DequantizeOptions',
  check(ctx: OpContext) {
    const x = ctx.input(0);
    const out = ctx.output(0);
    ctx.type(x, [T.UINT8, T.INT8, T.INT16, T.FLOAT16]);
    ctx.type(out, [T.FLOAT32]);
    ctx.shape(out, x.shape, ' (the input shape)');
    quantizedTensors(ctx, x);
  },
};

const quantize: OpRule = {
  inputs: [1, 1],
  outputs: [1, 1],
  options: 'QuantizeOptions',
  check(ctx: OpContext) {
    const x = ctx.input(0);
    const out = ctx.output(0);
    ctx.type(x, [T.FLOAT32, T.FLOAT16, T.INT8, T.UINT8, T.INT16]);
    ctx.type(out, QUANTIZED);
    ctx.shape(out, x.shape, ' (the input shape)');
    quantizedTensors(ctx, x, out);
  },
};

const cast: OpRule = {
  inputs: [1, 1],
  outputs: [1, 1],
  options: 'CastOptions',
  check(ctx: OpContext) {
    ctx.shape(ctx.output(0), ctx.input(0).shape, ' (the input shape)');
  },
};

const softmax: OpRule = {
  inputs: [1, 1],
  outputs: [1, 1],
  options: 'SoftmaxOptions',
  check(ctx: OpContext) {
    const x = ctx.input(0);
    const out = ctx.output(0);
    ctx.rank(x, 1, 6);
    nonEmpty(ctx, x);
    ctx.type(x, ACTIVATION_TYPES);
    ctx.type(out, x.type === T.INT8 ? [T.INT8, T.INT16] : [x.type]);
    ctx.shape(out, x.shape, ' (the input shape)');
    const beta = ctx.option('beta');
    // Quantized softmax turns beta × input scale × 2^26 into a fixed-point multiplier > 1 and aborts otherwise.
    const scale = x.tensor.quantization?.scale?.[0] ?? 1;
    const quantized = isQuantized(x);
    if (!(beta > 0 && beta < INF) || (quantized && !(beta * scale * 2 ** 26 > 1))) {
      ctx.fail(
        'op-options',
        `a positive finite beta${quantized ? ' (with beta × input scale × 2^26 > 1)' : ''}`,
        `${ctx.label} option beta`,
        beta,
      );
    }
    quantizedTensors(ctx, x, out);
  },
};

/** UNIDIRECTIONAL_SEQUENCE_LSTM: positions of its 24 inputs (TFLite's lstm_shared.h). */
const LSTM = {
  input: 0,
  inputWeights: [1, 2, 3, 4],
  recurrentWeights: [5, 6, 7, 8],
  peephole: [9, 10, 11],
  biases: [12, 13, 14, 15],
  projectionWeights: 16,
  projectionBias: 17,
  outputState: 18,
  cellState: 19,
  layerNorm: [20, 21, 22, 23],
} as const;

const sequenceLstm: OpRule = {
  inputs: [20, 24],
  outputs: [1, 1],
  // The input gate (CIFG), peepholes, projection and layer norm are optional.
  optional: [1, 5, 9, 10, 11, 12, 16, 17, 20, 21, 22, 23],
  options: 'UnidirectionalSequenceLSTMOptions',
  check(ctx: OpContext) {
    const x = ctx.input(LSTM.input);
    const out = ctx.output(0);
    ctx.rank(x, 3);
    nonEmpty(ctx, x);
    ctx.type(x, [T.FLOAT32, T.INT8]);
    ctx.sameType(out, x);
    const timeMajor = ctx.option('timeMajor') !== 0;
    const [d0, d1, nInput] = x.shape as [number, number, number];
    const batch = timeMajor ? d1 : d0;
    const forget = ctx.input(2);
    ctx.rank(forget, 2);
    const nCell = forget.shape[0]!;
    const recurrent = ctx.input(6);
    ctx.rank(recurrent, 2);
    const nOutput = recurrent.shape[1]!;
    const integer = x.type === T.INT8;
    const weightType = integer ? [T.INT8] : [T.FLOAT32, T.INT8, T.UINT8];
    const check = (i: number, shape: number[], types: readonly number[]) => {
      const t = ctx.optionalInput(i);
      if (t === undefined) return;
      // The integer kernel folds weights and biases into precomputed terms while preparing.
      if (integer) ctx.constant(t, 'the integer LSTM kernel reads it while preparing');
      ctx.shape(t, shape);
      ctx.type(t, types);
    };
    for (const i of LSTM.inputWeights) check(i, [nCell, nInput], weightType);
    for (const i of LSTM.recurrentWeights) check(i, [nCell, nOutput], weightType);
    for (const i of LSTM.peephole) check(i, [nCell], integer ? [T.INT16] : [T.FLOAT32]);
    for (const i of LSTM.biases) check(i, [nCell], integer ? [T.INT32] : [T.FLOAT32]);
    check(LSTM.projectionWeights, [nOutput, nCell], weightType);
    check(LSTM.projectionBias, [nOutput], integer ? [T.INT32] : [T.FLOAT32]);
    for (const i of LSTM.layerNorm) check(i, [nCell], integer ? [T.INT16] : [T.FLOAT32]);
    // The input gate is absent (CIFG) only as a whole.
    const cifg = ctx.optionalInput(1) === undefined;
    if (cifg !== (ctx.optionalInput(5) === undefined)) {
      ctx.fail(
        'op-optional-input',
        'input-to-input and recurrent-to-input weights both present or both absent (CIFG)',
        ctx.label,
        cifg ? 'only recurrent-to-input' : 'only input-to-input',
      );
    }
    if (!cifg && ctx.optionalInput(12) === undefined) {
      ctx.fail(
        'op-optional-input',
        'an input gate bias (input 12) when there are input gate weights',
        ctx.label,
        -1,
      );
    }
    const outState = ctx.input(LSTM.outputState);
    const cellState = ctx.input(LSTM.cellState);
    ctx.shape(outState, [batch, nOutput], ' (the output state: batch × output size)');
    ctx.shape(cellState, [batch, nCell], ' (the cell state: batch × cell size)');
    ctx.type(outState, [x.type]);
    ctx.type(cellState, integer ? [T.INT16] : [T.FLOAT32]);
    ctx.shape(out, [d0, d1, nOutput], ' (the input sequence with the output size)');
    activation(ctx);
    for (const [name, schemaName] of [
      ['cellClip', 'cell_clip'],
      ['projClip', 'proj_clip'],
    ] as const) {
      ctx.optionRange(name, schemaName, 0, Number.MAX_VALUE);
    }
    if (integer) {
      for (const t of [x, out, outState, cellState]) ctx.quantized(t);
      for (const i of [...LSTM.inputWeights, ...LSTM.recurrentWeights, LSTM.projectionWeights]) {
        const w = ctx.optionalInput(i);
        if (w) ctx.quantized(w);
      }
    }
  },
};

const FLOAT_INT: readonly number[] = [T.FLOAT32, T.INT32, T.INT64, T.INT8, T.UINT8, T.INT16];

/** Builtin code → rule. Ops absent here pass the generic checks only (see verify.ts). */
export const OP_RULES: ReadonlyMap<number, OpRule> = new Map<number, OpRule>([
  [OP.ADD, binary(FLOAT_INT, 'AddOptions', true, true)],
  [OP.SUB, binary(FLOAT_INT, 'SubOptions', true, true)],
  [OP.MUL, binary(FLOAT_INT, 'MulOptions', true)],
  [OP.DIV, binary([T.FLOAT32, T.INT32, T.UINT8], 'DivOptions', true)],
  [OP.FLOOR_DIV, binary([T.FLOAT32, T.INT32, T.INT16, T.INT8], 'FloorDivOptions', false)],
  [OP.SQRT, unary([T.FLOAT32])],
  [OP.RELU, unary(ACTIVATION_TYPES)],
  [OP.RELU6, unary(ACTIVATION_TYPES)],
  [OP.TANH, unary(ACTIVATION_TYPES)],
  [OP.LOGISTIC, unary(ACTIVATION_TYPES)],
  [OP.HARD_SWISH, unary([T.FLOAT32, T.UINT8, T.INT8], 'HardSwishOptions')],
  [OP.SOFTMAX, softmax],
  [OP.AVERAGE_POOL_2D, pool()],
  [OP.MAX_POOL_2D, pool()],
  [OP.CONV_2D, conv2d],
  [OP.DEPTHWISE_CONV_2D, depthwiseConv2d],
  [OP.FULLY_CONNECTED, fullyConnected],
  [OP.CONCATENATION, concatenation],
  [OP.RESHAPE, reshape],
  [OP.SQUEEZE, squeeze],
  [OP.MEAN, mean],
  [OP.PAD, pad],
  [OP.RESIZE_BILINEAR, resizeBilinear],
  [OP.DEQUANTIZE, dequantize],
  [OP.QUANTIZE, quantize],
  [OP.CAST, cast],
  [OP.ARG_MAX, argMax],
  [OP.PACK, pack],
  [OP.UNPACK, unpack],
  [OP.GATHER_ND, gatherNd],
  [OP.DEPTH_TO_SPACE, depthToSpace],
  [OP.DENSIFY, densify],
  [OP.UNIDIRECTIONAL_SEQUENCE_LSTM, sequenceLstm],
]);
