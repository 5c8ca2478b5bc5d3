import { describe, expect, it } from 'vitest';
import { fixture } from './fake-compiler.test-util.js';
import { operationCounts, parseCompilerOutput, parseOperationLog } from './parse.js';

const MiB = 1024 * 1024;
const KiB = 1024;

describe('parseCompilerOutput on recorded reports', () => {
  it('reads a fully mapped model: version, time, the three memory lines, counts and the -s table', () => {
    const out = parseCompilerOutput(fixture('fully-mapped.stdout.txt'));
    expect(out.version).toBe('16.0.384591198');
    expect(out.compileTimeMs).toBe(1083);
    expect(out.succeeded).toBe(true);
    expect(out.failures).toEqual([]);
    expect(out.models).toHaveLength(1);
    const m = out.models[0]!;
    expect(m.inputModel).toBe('mobilenet_v2_1.0_224_quant.tflite');
    expect(m.outputModel).toBe('mobilenet_v2_1.0_224_quant_edgetpu.tflite');
    expect(m.inputSizeBytes).toBe(Math.round(3.42 * MiB));
    expect(m.onChipUsedBytes).toBe(Math.round(3.63 * MiB));
    expect(m.onChipRemainingBytes).toBe(Math.round(3.38 * MiB));
    expect(m.offChipBytes).toBe(0);
    expect(m.edgetpuSubgraphs).toBe(1);
    expect(m.totalOperations).toBe(65);
    expect(m.operationLog).toBe('mobilenet_v2_1.0_224_quant_edgetpu.log');
    expect(m.partial).toBe(false);
    expect(m.operations).toHaveLength(5);
    expect(m.operations.every((r) => r.mapped)).toBe(true);
    expect(operationCounts(m)).toEqual({ edgetpu: 65, cpu: 0, total: 65 });
  });

  it('reads a partial mapping: the notice, the Edge TPU/CPU op counts and the unmapped statuses', () => {
    const out = parseCompilerOutput(fixture('partially-mapped.stdout.txt'));
    const m = out.models[0]!;
    expect(out.succeeded).toBe(true);
    expect(m.partial).toBe(true);
    expect(m.edgetpuOperations).toBe(66);
    expect(m.cpuOperations).toBe(4);
    expect(operationCounts(m)).toEqual({ edgetpu: 66, cpu: 4, total: 70 });
    const unmapped = m.operations.filter((r) => !r.mapped);
    expect(unmapped.map((r) => r.operator)).toEqual(['DEQUANTIZE', 'LOGISTIC', 'RESHAPE', 'CUSTOM']);
    expect(unmapped[0]!.status).toBe('Operation is working on an unsupported data type');
    // The table agrees with the printed counts.
    expect(operationCounts({ ...m, edgetpuOperations: undefined, cpuOperations: undefined })).toEqual({
      edgetpu: 66,
      cpu: 4,
      total: 70,
    });
  });

  it('reads a model that streams parameters (compiler 15, no timeout lines)', () => {
    const out = parseCompilerOutput(fixture('streaming.stdout.txt'));
    expect(out.version).toBe('15.0.340273435');
    expect(out.succeeded).toBe(true);
    const m = out.models[0]!;
    expect(m.onChipUsedBytes).toBe(Math.round(6.91 * MiB));
    expect(m.onChipRemainingBytes).toBe(Math.round(7.75 * KiB));
    expect(m.offChipBytes).toBe(Math.round(16.98 * MiB));
    expect(m.inputSizeBytes).toBe(Math.round(24.12 * MiB));
    expect(operationCounts(m)).toEqual({ edgetpu: 79, cpu: 0, total: 79 });
  });

  it('reads a co-compiled set: one block and one table per model, in argument order', () => {
    const out = parseCompilerOutput(fixture('co-compiled.stdout.txt'));
    expect(out.succeeded).toBe(true);
    expect(out.compileTimeMs).toBe(2214);
    expect(out.models.map((m) => m.inputModel)).toEqual([
      'mobilenet_v1_1.0_224_quant.tflite',
      'mobilenet_v2_1.0_224_quant.tflite',
    ]);
    const [a, b] = out.models;
    expect(a!.onChipUsedBytes).toBe(Math.round(4.21 * MiB));
    expect(a!.offChipBytes).toBe(0);
    expect(b!.onChipUsedBytes).toBe(Math.round(2.86 * MiB));
    expect(b!.offChipBytes).toBe(Math.round(560.5 * KiB));
    expect(a!.onChipRemainingBytes).toBe(b!.onChipRemainingBytes);
    expect(a!.operations.reduce((s, r) => s + r.count, 0)).toBe(31);
    expect(b!.operations.reduce((s, r) => s + r.count, 0)).toBe(65);
  });

  it('reports failures: the failure lines, no success, no model block', () => {
    const out = parseCompilerOutput(fixture('failure.stdout.txt'));
    expect(out.succeeded).toBe(false);
    expect(out.models).toEqual([]);
    expect(out.failures).toEqual([
      'ERROR: Attempting to use a delegate that only supports static-sized tensors with a graph that has dynamic-sized tensors.',
      'Compilation failed: Model failed in Tflite interpreter. Please ensure model can be loaded/run in Tflite interpreter.',
      'Compilation failed!',
    ]);
    const internal = parseCompilerOutput(fixture('internal-error.stdout.txt'));
    expect(internal.version).toBe('14.1.317412892');
    expect(internal.succeeded).toBe(false);
    expect(internal.failures).toEqual(['Internal compiler error. Aborting!']);
  });

  it('sees a model of which nothing maps', () => {
    const m = parseCompilerOutput(fixture('not-mapped.stdout.txt')).models[0]!;
    expect(m.edgetpuSubgraphs).toBe(0);
    expect(operationCounts(m)).toEqual({ edgetpu: 0, cpu: 3, total: 3 });
  });

  it('reads the 2.0 format, which prints "available" instead of "remaining"', () => {
    const m = parseCompilerOutput(fixture('v2-available.stdout.txt')).models[0]!;
    expect(m.onChipAvailableBytes).toBe(Math.round(7.62 * MiB));
    expect(m.onChipRemainingBytes).toBeUndefined();
    expect(operationCounts(m)).toEqual({ edgetpu: 63, cpu: 1, total: 64 });
  });

  it('keeps a failure after a success as a failure, and a success after search failures as a success', () => {
    expect(parseCompilerOutput('Model compiled successfully in 5 ms.\nCompilation failed!').succeeded).toBe(
      false,
    );
    const searched =
      'Try to compile segment with 34 ops\nCompilation failed! \nModel compiled successfully in 9 ms.\n';
    expect(parseCompilerOutput(searched).succeeded).toBe(true);
    expect(parseCompilerOutput('Model not mapped').failures).toEqual(['Model not mapped']);
  });

  it('ignores unknown lines and tolerates CRLF', () => {
    const text = fixture('fully-mapped.stdout.txt')
      .replace(/\n/g, '\r\n')
      .replace('Input size', 'Something new: 3\r\nInput size');
    const out = parseCompilerOutput(text);
    expect(out.models[0]!.totalOperations).toBe(65);
    expect(out.succeeded).toBe(true);
  });
});

describe('parseOperationLog', () => {
  it('reads the .log file: version, input, output and the table', () => {
    const log = parseOperationLog(fixture('partially-mapped_edgetpu.log'));
    expect(log.version).toBe('16.0.384591198');
    expect(log.input).toBe('ssd_mobilenet_v2_coco_quant_postprocess.tflite');
    expect(log.output).toBe('ssd_mobilenet_v2_coco_quant_postprocess_edgetpu.tflite');
    expect(log.operations).toHaveLength(9);
    expect(log.operations.filter((r) => r.mapped).reduce((s, r) => s + r.count, 0)).toBe(66);
  });

  it('matches the table printed with -s', () => {
    const printed = parseCompilerOutput(fixture('fully-mapped.stdout.txt')).models[0]!.operations;
    expect(parseOperationLog(fixture('fully-mapped_edgetpu.log')).operations).toEqual(printed);
  });
});
