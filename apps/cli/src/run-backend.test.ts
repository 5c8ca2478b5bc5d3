// `swapless run`'s backend line and JSON on real Coral models: a uint8 model runs as its int8 rewrite on XNNPACK
// with one note saying so; a model XNNPACK cannot prepare runs on reference kernels with one note saying why.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli } from './test-util.js';

const coral = (name: string) =>
  fileURLToPath(new URL(`../../../fixtures/models/coral/${name}`, import.meta.url));
const FAST = ['--repeat', '1', '--warmup', '0', '--delegate', 'cpu'];

describe('swapless run: which kernels ran, and why', () => {
  it('runs a uint8 model as int8 on XNNPACK and says so in one line', async () => {
    const text = await cli('run', coral('mobilenet_v1_0.25_128_quant.tflite'), ...FAST);
    expect(text.status).toBe(0);
    expect(text.out).toContain('backend: measured: TFLite CPU (XNNPACK, uint8 as int8, 1 thread)');
    expect(text.out).toMatch(
      /\n {2}note: {4}uint8 ops run as int8 on XNNPACK: 29 ops rewritten, \d+ of 3737 weight channels/,
    );

    const json = await cli('run', coral('mobilenet_v1_0.25_128_quant.tflite'), '--json', ...FAST);
    const { backend } = JSON.parse(json.out);
    expect(backend).toMatchObject({
      xnnpack: true,
      kernels: 'xnnpack',
      verified: true,
      int8: { opsRewritten: 29 },
    });
    expect(backend.note).toMatch(/^uint8 ops run as int8 on XNNPACK/);
  });

  it('runs a model XNNPACK cannot prepare on reference kernels instead of failing', async () => {
    const r = await cli('run', coral('movenet_single_pose_lightning_ptq.tflite'), '--json', ...FAST);
    expect(r.status).toBe(0);
    const { backend } = JSON.parse(r.out);
    expect(backend).toMatchObject({ xnnpack: false, kernels: 'reference', int8: null });
    expect(backend.note).toMatch(
      /^XNNPACK could not prepare the model \(.+\), so TFLite's reference kernels run it$/,
    );
  });

  it('has no note when nothing differs from what was asked', async () => {
    const r = await cli('run', coral('tf2_mobilenet_v2_1.0_224_ptq.tflite'), '--json', ...FAST);
    expect(JSON.parse(r.out).backend).toMatchObject({ kernels: 'xnnpack', int8: null, note: null });
    const off = await cli('run', coral('mobilenet_v1_0.25_128_quant.tflite'), '--xnnpack', 'off', ...FAST);
    expect(off.out).toContain('(reference kernels, 1 thread)');
    expect(off.out).not.toContain('note:');
  });
});
