import { InvalidCutError } from '@swapless/core';
import { buildTestNet } from '@swapless/int8-builder';
import { boundaryAt, splitModel } from '@swapless/tflite';
import { getProfile } from '@swapless/tpu-emulator';
import { describe, expect, it } from 'vitest';
import { intermediateTensorsForCut } from './cut-tensors.js';
import type { EdgeTpuRunResult } from './edgetpu.js';
import { fixture } from './fake-compiler.test-util.js';
import { operationCounts, type ParsedModelBlock, parseCompilerOutput } from './parse.js';
import { DERIVED_FIELDS, reportFromCompilerRun } from './report.js';

function runOf(block: ParsedModelBlock, input = 'tpu.tflite'): EdgeTpuRunResult {
  return {
    compilerPath: '/usr/bin/edgetpu_compiler',
    args: ['-s', '-o', '.', input],
    version: '16.0.384591198',
    stdout: '',
    stderr: '',
    parsed: { version: '16.0.384591198', compileTimeMs: 12, succeeded: true, failures: [], models: [block] },
    models: [
      {
        input,
        output: 'tpu_edgetpu.tflite',
        block,
        operations: block.operations,
        counts: operationCounts(block),
      },
    ],
  };
}

describe('reportFromCompilerRun', () => {
  it('fills the emulator shape from the printed figures and places layers in graph order', () => {
    const head = splitModel(buildTestNet(), 9).head!;
    // Weights of the head's ops: conv1 248 B, dw1 104 B, pw1 96 B, flatten 8 B, logits 2600 B.
    const block: ParsedModelBlock = {
      inputModel: 'tpu.tflite',
      onChipUsedBytes: 352,
      onChipRemainingBytes: 0,
      offChipBytes: 2704,
      edgetpuSubgraphs: 1,
      totalOperations: 9,
      partial: false,
      operations: [],
    };
    const report = reportFromCompilerRun(runOf(block), [head], getProfile('usb3'), 'edgetpu-token');
    expect(report.source).toBe('edgetpu_compiler');
    expect(report.reportVersion).toBe(1);
    expect(report.profile).toBe('usb3');
    expect(report.cachingToken).toBe('edgetpu-token');
    expect(report.onChipCachedBytes).toBe(352);
    expect(report.offChipStreamedBytes).toBe(2704);
    expect(report.parameterBudgetBytes).toBe(352);
    expect(report.mappedOps).toBe(9);
    expect(report.derived).toEqual(DERIVED_FIELDS);
    const m = report.models[0]!;
    expect(m.parameterBytes).toBe(352 + 2704);
    expect(m.layers.map((l) => l.placement)).toEqual([
      'cached',
      'cached',
      'streamed',
      'none',
      'none',
      'none',
      'none',
      'streamed',
      'streamed',
    ]);
    expect(m.outputBytes).toBeGreaterThan(0);
    expect(m.firstUnmapped).toBeUndefined();
  });

  it('names the first op left on the CPU, with the status the compiler printed for its type', () => {
    const head = splitModel(buildTestNet(), 9).head!;
    const block: ParsedModelBlock = {
      ...parseCompilerOutput(fixture('fully-mapped.stdout.txt')).models[0]!,
      totalOperations: 9,
      edgetpuOperations: 7,
      cpuOperations: 2,
      partial: true,
      operations: [
        { operator: 'CONV_2D', count: 2, status: 'Mapped to Edge TPU', mapped: true },
        { operator: 'RESHAPE', count: 1, status: 'More than one subgraph is not supported', mapped: false },
        {
          operator: 'FULLY_CONNECTED',
          count: 1,
          status: 'More than one subgraph is not supported',
          mapped: false,
        },
      ],
    };
    const m = reportFromCompilerRun(runOf(block), [head], getProfile('usb3'), 't').models[0]!;
    expect(m.mappedOps).toBe(7);
    expect(m.unmappedOps).toBe(2);
    expect(m.partial).toBe(true);
    expect(m.layers).toHaveLength(7);
    expect(m.firstUnmapped).toEqual({
      position: 7,
      type: 'RESHAPE',
      reason: 'More than one subgraph is not supported',
    });
  });
});

describe('intermediateTensorsForCut', () => {
  it('names the head-produced boundary tensors of a cut, and nothing at the ends', () => {
    const model = buildTestNet();
    expect(intermediateTensorsForCut(model, 3)).toEqual(['conv1', 'pw1']);
    expect(intermediateTensorsForCut(model, 4)).toEqual(['residual']);
    expect(intermediateTensorsForCut(model, 0)).toEqual([]);
    expect(intermediateTensorsForCut(model, 10)).toEqual([]);
    for (let k = 1; k < 10; k++) {
      expect(intermediateTensorsForCut(model, k)).toEqual(
        boundaryAt(model, k)
          .filter((b) => b.source === 'head')
          .map((b) => b.name),
      );
    }
    expect(() => intermediateTensorsForCut(model, 11)).toThrow(InvalidCutError);
  });
});
