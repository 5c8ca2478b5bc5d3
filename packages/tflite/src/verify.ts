/**
 * The semantic verifier: checks what TFLite 2.9's loader and kernels trust without checking, on a model that
 * is already structurally valid (every index in range, every vector inside the file — see reader.ts).
 *
 * TFLite's own verifier covers the flatbuffer; its kernels then trust the graph: an op input of −1 where the
 * kernel expects a tensor is read at index −1; a CONV_2D stride of 0 divides by zero; a shape vector shortened
 * by one turns a bias into a scalar that XNNPACK reads 64 elements of; an output type changed to INT64 makes a
 * kernel write 8-byte elements into a buffer sized for 1-byte ones. Fuzzing the real models through the native
 * runtime (bench/fuzz-bench.mjs) finds these classes; this module closes every one a schema-level check can:
 *
 * - tensors: total bytes within a bound (no overflow of the runtime's size arithmetic), quantization scales
 *   with one zero point each;
 * - graph: every op input is a constant, a variable, a subgraph input or the output of an *earlier* op (what
 *   TFLite assumes when it plans memory and when kernels read weights at prepare); no op writes a constant, a
 *   subgraph input, or a tensor another op writes;
 * - the ops the zoo, Coral's models and MediaPipe's models use (verify-ops.ts): input and output counts, −1
 *   only where the input is optional, ranks, element types that agree, declared shapes equal to the shapes the
 *   kernels compute, option scalars in range, quantization where a quantized kernel needs it.
 *
 * Ops outside that table are allowed after the generic checks: what no schema-level check can rule out is left
 * to vetting (a child process loads and invokes the model first; docs/tflite-format.md lists what remains).
 */

import { hasBufferData, tensorBytes } from './analysis.js';
import type { Operator, SubGraph, TfliteModel } from './model.js';
import { tensorTypeName } from './model.js';
import { builtinOperatorName, BuiltinOperator as OP } from './ops.js';
import { fail, OpContext, showShape } from './verify-context.js';
import { OP_RULES, type OpRule } from './verify-ops.js';
import { checkSparsity } from './verify-sparsity.js';

export type { VerifyRule } from './verify-context.js';

/** Options of {@link verifyModel}. */
export interface VerifyOptions {
  /**
   * Largest tensor accepted, in bytes. Default 2^31 − 1: TFLite's kernels index flat buffers with 32-bit ints,
   * so a larger tensor overflows their arithmetic long before it could be useful.
   */
  maxTensorBytes?: number;
}

/** The default of {@link VerifyOptions.maxTensorBytes}. */
export const DEFAULT_MAX_TENSOR_BYTES = 2 ** 31 - 1;

/**
 * Verifies the semantics of a structurally valid model (one that {@link readModel} built; it calls this by
 * default). Returns nothing; throws on the first problem.
 *
 * @throws InvalidModelError with `details.rule` (a {@link VerifyRule}), `details.subgraph` and, where they
 *   apply, `details.operator`, `details.op` and `details.tensor`. The message says what was expected where,
 *   and what the file holds.
 */
export function verifyModel(model: TfliteModel, options: VerifyOptions = {}): void {
  const maxBytes = options.maxTensorBytes ?? DEFAULT_MAX_TENSOR_BYTES;
  checkOperatorCodes(model);
  model.subgraphs.forEach((sg, s) => {
    checkTensors(model, sg, s, maxBytes);
    checkOperators(model, sg, s);
  });
}

/** Every operator code is a builtin without a custom_code, or CUSTOM with one. */
function checkOperatorCodes(model: TfliteModel): void {
  model.operatorCodes.forEach((c, i) => {
    // TFLite runs the builtin kernel of any code other than CUSTOM, whatever custom_code says: a custom op whose
    // code was changed would run a builtin kernel on tensors made for something else.
    const custom = c.builtinCode === OP.CUSTOM;
    const named = c.customCode !== undefined && c.customCode !== '';
    if (custom !== named) {
      const where = `operator code ${i} (${builtinOperatorName(c.builtinCode)})`;
      const details = { operatorCode: i };
      if (custom) fail('operator-code', 'a custom_code naming the custom op', where, 'none', details);
      fail(
        'operator-code',
        'no custom_code (the code is a builtin op)',
        where,
        JSON.stringify(c.customCode),
        details,
      );
    }
  });
}

/** Sizes, sparsity and quantization of the tensors of subgraph `s`. */
function checkTensors(model: TfliteModel, sg: SubGraph, s: number, maxBytes: number): void {
  const where = (i: number) =>
    `${s > 0 ? `subgraph ${s} ` : ''}tensor ${i} ${JSON.stringify(sg.tensors[i]!.name.slice(0, 48))}`;
  sg.tensors.forEach((t, i) => {
    const bytes = tensorBytes(t);
    if (bytes > maxBytes) {
      fail(
        'tensor-size',
        `at most ${maxBytes} bytes`,
        where(i),
        `${showShape(t.shape)} ${tensorTypeName(t.type)} (${bytes} bytes)`,
        {
          subgraph: s,
          tensor: i,
        },
      );
    }
    const spec = t.sparsity;
    if (spec !== undefined) {
      const data = model.buffers[t.buffer]?.data;
      const element = tensorBytes({ ...t, shape: [] });
      const problem = checkSparsity(spec, t.shape, data && element > 0 ? data.length / element : 0);
      if (problem !== undefined) {
        fail('tensor-sparsity', problem[0], `${where(i)} sparsity`, problem[1], { subgraph: s, tensor: i });
      }
    }
    const q = t.quantization;
    const scales = q?.scale?.length ?? 0;
    // TFLite copies one zero point per scale without checking that the file has that many.
    if (scales > 0 && (q!.zeroPoint?.length ?? 0) !== scales) {
      fail(
        'tensor-quantization',
        `${scales} zero points (one per scale)`,
        where(i),
        `${q!.zeroPoint?.length ?? 0}`,
        {
          subgraph: s,
          tensor: i,
        },
      );
    }
  });
}

/** The operators of subgraph `s` in file order: their rules, and that data flows forward. */
function checkOperators(model: TfliteModel, sg: SubGraph, s: number): void {
  // Dataflow in file order, which is the order TFLite runs the ops in.
  const ready = new Uint8Array(sg.tensors.length);
  const produced = new Uint8Array(sg.tensors.length);
  sg.tensors.forEach((t, i) => {
    if (t.isVariable || hasBufferData(model, t)) ready[i] = 1;
  });
  for (const i of sg.inputs) ready[i] = 1;
  const inputSet = new Set(sg.inputs);
  const written = new Set(sg.operators.flatMap((op) => op.outputs));
  const read = new Set([...sg.operators.flatMap((op) => op.inputs), ...sg.outputs]);

  sg.operators.forEach((op, o) => {
    const code = model.operatorCodes[op.opcodeIndex]!;
    const custom = code.builtinCode === OP.CUSTOM;
    const name = custom ? code.customCode! : builtinOperatorName(code.builtinCode);
    const rule = custom ? undefined : OP_RULES.get(code.builtinCode);
    const ctx = new OpContext(model, sg, s, o, op, name, rule?.options);
    if (rule !== undefined) checkRule(ctx, rule, op);
    op.inputs.forEach((index, i) => {
      if (index >= 0 && ready[index] === 0) {
        const t = sg.tensors[index]!;
        const what = written.has(index) ? 'is written by a later op' : 'is never written';
        ctx.fail(
          'graph-dataflow',
          'a constant, a variable, a model input or the output of an earlier op',
          `${ctx.label} input ${i} (tensor ${index} ${JSON.stringify(t.name.slice(0, 48))})`,
          `a tensor that ${what}`,
        );
      }
    });
    op.outputs.forEach((index, i) => {
      const t = sg.tensors[index]!;
      const problem = hasBufferData(model, t)
        ? 'a constant tensor'
        : inputSet.has(index)
          ? 'a model input'
          : produced[index]
            ? 'a tensor an earlier op already writes'
            : undefined;
      if (problem !== undefined) {
        ctx.fail(
          'graph-dataflow',
          'a tensor no other op writes',
          `${ctx.label} output ${i} (tensor ${index} ${JSON.stringify(t.name.slice(0, 48))})`,
          problem,
        );
      }
    });
    // A dead builtin op (nothing reads any of its outputs) makes XNNPACK 2.9 crash while it plans the
    // delegated graph; converters never emit one. (XNNPACK never takes a custom op, so those are left alone.)
    if (!custom && op.outputs.length > 0 && !op.outputs.some((index) => read.has(index))) {
      const index = op.outputs[0]!;
      ctx.fail(
        'graph-dataflow',
        'a result that a later op or the model output reads',
        `${ctx.label} output 0 (tensor ${index} ${JSON.stringify(sg.tensors[index]!.name.slice(0, 48))})`,
        'a tensor nothing reads',
      );
    }
    rule?.check(ctx);
    for (const index of op.outputs) {
      produced[index] = 1;
      ready[index] = 1;
    }
  });
}

/** An op's arity, options type and non-optional inputs against its rule. */
function checkRule(ctx: OpContext, rule: OpRule, op: Operator): void {
  const [minIn, maxIn] = rule.inputs;
  const [minOut, maxOut] = rule.outputs;
  if (ctx.inputCount < minIn || ctx.inputCount > maxIn) {
    ctx.fail('op-arity', range(minIn, maxIn, 'input'), ctx.label, ctx.inputCount);
  }
  if (ctx.outputCount < minOut || ctx.outputCount > maxOut) {
    ctx.fail('op-arity', range(minOut, maxOut, 'output'), ctx.label, ctx.outputCount);
  }
  const given = op.builtinOptions?.name;
  if (given !== undefined && rule.options !== undefined && given !== rule.options) {
    ctx.fail('op-options', `${rule.options} (or none)`, `${ctx.label} options`, given);
  }
  op.inputs.forEach((index, i) => {
    if (index < 0 && !rule.optional?.includes(i)) {
      ctx.fail(
        'op-optional-input',
        'a tensor (this input is not optional)',
        `${ctx.label} input ${i}`,
        index,
      );
    }
  });
}

function range(min: number, max: number, what: string): string {
  if (min === max) return `${min} ${what}${min === 1 ? '' : 's'}`;
  if (max === Number.POSITIVE_INFINITY) return `at least ${min} ${what}s`;
  return `${min} to ${max} ${what}s`;
}
