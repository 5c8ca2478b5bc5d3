// Variants of architecture-faithful zoo models (emulated): the figures the queueing model consumes.
import { readFile } from 'node:fs/promises';
import { analyzeModel, readModel, writeModel } from '@swapless/tflite';
import { buildZooModel } from '@swapless/zoo';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COMPILER_ENV } from './edgetpu.js';
import { removeTempDirs, tempDir } from './fake-compiler.test-util.js';
import { coCompile, variants } from './variants.js';

beforeEach(() => {
  vi.stubEnv(COMPILER_ENV, '');
});
afterEach(() => {
  vi.unstubAllEnvs();
});
afterAll(removeTempDirs);

describe('zoo models', () => {
  it('cuts MobileNet v2 into segments whose op counts add up, with cached parameters growing with k', async () => {
    const cache = await tempDir();
    const bytes = writeModel(buildZooModel('mobilenet_v2'));
    const n = analyzeModel(readModel(bytes)).n;
    const cuts = [0, 10, 30, n];
    const vs = await variants(bytes, cuts, { compiler: 'emulator', cacheDir: cache });
    for (const v of vs) {
      const tpu = v.files.tpu === null ? 0 : analyzeModel(readModel(await readFile(v.files.tpu))).n;
      const cpu = v.files.cpu === null ? 0 : analyzeModel(readModel(await readFile(v.files.cpu))).n;
      expect(tpu + cpu).toBe(n);
      expect(tpu).toBe(v.k);
    }
    const cached = vs.map((v) => v.report?.onChipCachedBytes ?? 0);
    expect(cached).toEqual([...cached].sort((a, b) => a - b));
    expect(vs.at(-1)!.report!.offChipStreamedBytes).toBe(0);
  });

  it('shows intra-model swapping (ResNet-50 streams) and a co-compiled pair sharing one budget', async () => {
    const cache = await tempDir();
    const [resnet] = await variants(writeModel(buildZooModel('resnet50_v1')), [75], {
      compiler: 'emulator',
      cacheDir: cache,
    });
    expect(resnet!.report!.offChipStreamedBytes).toBeGreaterThan(0);

    const [v1] = await variants(writeModel(buildZooModel('mobilenet_v1')), [31], {
      compiler: 'emulator',
      cacheDir: cache,
    });
    const [v2] = await variants(writeModel(buildZooModel('mobilenet_v2')), [66], {
      compiler: 'emulator',
      cacheDir: cache,
    });
    // Alone, each fits on chip; together, the second in argument order streams what no longer fits.
    expect(v1!.report!.offChipStreamedBytes).toBe(0);
    expect(v2!.report!.offChipStreamedBytes).toBe(0);
    const pair = await coCompile([v1!.files.tpu!, v2!.files.tpu!], { compiler: 'emulator', cacheDir: cache });
    expect(pair.segments[0]!.report.offChipStreamedBytes).toBe(0);
    expect(pair.segments[1]!.report.offChipStreamedBytes).toBeGreaterThan(0);
    expect(pair.report.onChipCachedBytes).toBeLessThanOrEqual(pair.report.parameterBudgetBytes);
  });
});
