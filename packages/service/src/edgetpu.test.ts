import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterpreter } from '@swapless/edgetpu';
import { buildTestNet } from '@swapless/int8-builder';
import { SeededRandom, writeModel } from '@swapless/tflite';
import { describe, expect, inject, it } from 'vitest';
import { createService } from './index.js';
import { usePrivateCache } from './test-support.js';

// The mock libedgetpu (native/tflite-addon/test/mock-edgetpu) creates a valid delegate that claims only the
// edgetpu-custom-op of compiled models, so split heads run on the CPU kernels behind it and the outputs must equal
// the unsplit model's.
const mock = inject('mockEdgeTpuLibrary');

usePrivateCache();

describe('real Edge TPU backend (mock delegate)', () => {
  it('serves through the delegate, reports measured TPU timing and the device model of the chosen profile', async () => {
    const model = writeModel(buildTestNet(3));
    const s = await createService({
      cores: 2,
      tickMs: 3_600_000,
      policy: 'fixed',
      profiling: { repetitions: 3, maxCuts: 4 },
      device: { edgetpu: { library: mock, device: 'usb:0' }, profile: 'pcie' },
    });
    try {
      const t = await s.addTenant({ name: 'cam', model, source: 'test:cam' });
      expect(t).toMatchObject({ timing: 'measured' });
      expect(t.k).toBeGreaterThan(0);
      const x = new Int8Array(16 * 16 * 3);
      new SeededRandom(1).fillUniformInt8(x);
      const it = createInterpreter(model, { threads: 1 });
      it.setInput(0, x);
      it.invoke();
      const want = it.outputs.map((_, i) => it.getOutput(i));
      it.dispose();
      const { outputs, trace } = await s.infer('cam', [x]);
      expect(outputs).toEqual(want);
      expect(trace.tpu?.backend).toBe('edgetpu');
      expect(s.controller()).toMatchObject({ backend: 'edgetpu', device: 'pcie' });
      expect(s.device()).toMatchObject({ backend: 'edgetpu', profile: 'pcie', holder: 'cam' });
    } finally {
      await s.close();
    }
  });

  it('compiles each head with edgetpu_compiler when one is given (fake compiler), and warns when none is found', async () => {
    const fake = fileURLToPath(
      new URL('../../compiler/test/fake-compiler/edgetpu_compiler.mjs', import.meta.url),
    );
    const calls = join(await mkdtemp(join(tmpdir(), 'swapless-fake-calls-')), 'calls.jsonl');
    process.env.FAKE_EDGETPU_CALLS = calls;
    const model = writeModel(buildTestNet(5));
    const s = await createService({
      cores: 2,
      tickMs: 3_600_000,
      policy: 'fixed',
      profiling: { repetitions: 3, maxCuts: 4 },
      device: { edgetpu: { library: mock }, compilerPath: fake },
    });
    try {
      expect(s.warnings).toEqual([]);
      const t = await s.addTenant({ name: 'cam', model, source: 'test:cam' });
      expect(t.k).toBeGreaterThan(0);
      const x = new Int8Array(16 * 16 * 3);
      new SeededRandom(2).fillUniformInt8(x);
      const it = createInterpreter(model, { threads: 1 });
      it.setInput(0, x);
      it.invoke();
      const want = it.outputs.map((_, i) => it.getOutput(i));
      it.dispose();
      expect((await s.infer('cam', [x])).outputs).toEqual(want);
      // One compiler run for the one head in use (the fake's *_edgetpu.tflite is a copy of the head).
      const lines = (await readFile(calls, 'utf8')).trim().split('\n');
      expect(lines.length).toBe(1);
    } finally {
      delete process.env.FAKE_EDGETPU_CALLS;
      await s.close();
    }
    const saved = { path: process.env.PATH, env: process.env.SWAPLESS_EDGETPU_COMPILER };
    process.env.PATH = '/nonexistent';
    delete process.env.SWAPLESS_EDGETPU_COMPILER;
    try {
      const bare = await createService({
        cores: 1,
        tickMs: 3_600_000,
        device: { edgetpu: { library: mock } },
      });
      expect(bare.warnings.join()).toMatch(/No edgetpu_compiler found/);
      await bare.close();
    } finally {
      process.env.PATH = saved.path;
      if (saved.env !== undefined) process.env.SWAPLESS_EDGETPU_COMPILER = saved.env;
    }
  });
});
