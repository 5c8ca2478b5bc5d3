import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DelegateUnavailableError, ErrorCodes } from '@swapless/core';
import { createInterpreter } from '@swapless/edgetpu';
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createRuntime } from './index.js';
import { reference, testInput, testNetBytes } from './test-support.js';

// The mock libedgetpu (native/tflite-addon/test/mock-edgetpu) creates a valid delegate that claims only the
// edgetpu-custom-op of compiled models, so split heads run on the CPU kernels behind it and the outputs must
// equal the unsplit model's; a compiled model's outputs follow the mock's documented formula.
const mock = inject('mockEdgeTpuLibrary');
const dir = mkdtempSync(join(tmpdir(), 'swapless-runtime-'));
let log = '';
let n = 0;
beforeEach(() => {
  log = join(dir, `calls-${++n}.log`);
  process.env.MOCK_EDGETPU_LOG = log;
  delete process.env.MOCK_EDGETPU_DEVICES;
});
afterEach(() => {
  delete process.env.MOCK_EDGETPU_LOG;
  delete process.env.MOCK_EDGETPU_DEVICES;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const calls = () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
/** Coral's MobileNet compiled by edgetpu_compiler: one edgetpu-custom-op (fixtures/models/README.md). */
const COMPILED_MODEL = new Uint8Array(
  readFileSync(
    fileURLToPath(
      new URL('../../../fixtures/models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite', import.meta.url),
    ),
  ),
);

/** A runtime on the mock delegate whose head compiler records the cut of every head it is asked for. */
async function mockRuntime(cores: number, device?: string) {
  const compiled: number[] = [];
  const rt = await createRuntime({
    cores,
    device: {
      edgetpu: {
        library: mock,
        ...(device !== undefined ? { device } : {}),
        compileHead: (head, info) => {
          compiled.push(info.k);
          return head;
        },
      },
    },
  });
  return { rt, compiled };
}

describe('edgetpu backend (mock delegate)', () => {
  it('runs heads through the Edge TPU delegate, switches variants, and destroys delegates on close', async () => {
    const model = testNetBytes(3);
    const { rt, compiled } = await mockRuntime(2, 'usb:0');
    expect(rt.backend).toBe('edgetpu');
    expect(rt.stats().tpu.holder).toBeNull();
    await rt.addTenant({ name: 'a', model, choice: { k: 4, cores: 1 } });
    const x = [testInput(5)];
    const want = reference(model, x);
    const first = await rt.submit('a', x);
    expect(first.outputs).toEqual(want);
    expect(first.trace.tpu).toMatchObject({ backend: 'edgetpu', modelledMs: null, reload: false });
    expect(first.trace.tpu!.computedMs).toBeGreaterThanOrEqual(0);
    // The real token is not observable: the holder is the last head that ran.
    expect(rt.stats().tpu.holder).toEqual({ tenant: 'a', variant: first.trace.variant });
    const during = Array.from({ length: 10 }, () => rt.submit('a', x));
    await rt.reconfigure({ tenants: [{ name: 'a', k: 7, cores: 2, mode: 'mgc' }] });
    const after = Array.from({ length: 10 }, () => rt.submit('a', x));
    for (const r of await Promise.all([...during, ...after])) expect(r.outputs).toEqual(want);
    expect(rt.stats().tpu.holder).toEqual({ tenant: 'a', variant: (await after[9]!).trace.variant });
    expect(rt.stats().tpu.holder!.variant.endsWith(':k=7')).toBe(true);
    expect(compiled).toEqual([4, 7]);
    await rt.close();
    const log = calls();
    expect(log.filter((l) => l.startsWith('create'))).toEqual(['create device=usb:0', 'create device=usb:0']);
    expect(log.filter((l) => l === 'destroy')).toHaveLength(2);
  });

  it('opens one delegate per device and moves a tenant between devices without losing a request', async () => {
    process.env.MOCK_EDGETPU_DEVICES = 'usb:/sys/mock-usb,pci:/dev/apex_0';
    const model = testNetBytes(3);
    const rt = await createRuntime({
      cores: 2,
      device: { edgetpu: { library: mock } },
      devices: [{ id: 'usb:0' }, { id: 'pci:0' }],
    });
    try {
      expect(rt.devices).toEqual(['usb:0', 'pci:0']);
      await rt.addTenant({ name: 'a', model, choice: { k: 4, cores: 1 } });
      const x = [testInput(5)];
      const want = reference(model, x);
      const before = Array.from({ length: 8 }, () => rt.submit('a', x));
      await rt.reconfigure({ tenants: [{ name: 'a', k: 4, cores: 1, device: 'pci:0' }] });
      const after = Array.from({ length: 8 }, () => rt.submit('a', x));
      const results = await Promise.all([...before, ...after]);
      for (const r of results) expect(r.outputs).toEqual(want);
      expect(results.slice(0, 8).every((r) => r.trace.tpu!.device === 'usb:0')).toBe(true);
      expect(results.slice(8).every((r) => r.trace.tpu!.device === 'pci:0')).toBe(true);
      expect(rt.stats().devices.map((d) => [d.id, d.calls, d.holder?.tenant ?? null])).toEqual([
        ['usb:0', 8, 'a'],
        ['pci:0', 8, 'a'],
      ]);
      // A device the host does not have: the delegate refuses it, typed, and the tenant stays where it was.
      const missing = await createRuntime({
        cores: 1,
        device: { edgetpu: { library: mock } },
        devices: [{ id: 'usb:0' }, { id: 'pci:3' }],
      });
      await missing.addTenant({ name: 'a', model, choice: { k: 4, cores: 1 } });
      await expect(
        missing.reconfigure({ tenants: [{ name: 'a', k: 4, cores: 1, device: 'pci:3' }] }),
      ).rejects.toBeInstanceOf(DelegateUnavailableError);
      expect(missing.choice('a').device).toBe('usb:0');
      await missing.close();
    } finally {
      await rt.close();
    }
    // One delegate per device, each created with that device's libedgetpu name.
    const created = calls().filter((l) => l.startsWith('create'));
    expect(created.slice(0, 2)).toEqual(['create device=usb:0', 'create device=pci:0']);
  });

  it('serves a compiled *_edgetpu.tflite whole through the delegate: fixed at k = n, no CPU stage', async () => {
    const { rt, compiled: heads } = await mockRuntime(1);
    try {
      await expect(
        rt.addTenant({ name: 'cls', model: COMPILED_MODEL, choice: { k: 0, cores: 1 } }),
      ).rejects.toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT, details: { reason: 'compiled-model' } });
      await rt.addTenant({ name: 'cls', model: COMPILED_MODEL, choice: { k: 1, cores: 0 } });
      const x = new Uint8Array(128 * 128 * 3);
      for (let j = 0; j < x.length; j++) x[j] = (j * 13) & 0xff;
      // The model run alone through the same delegate.
      const alone = createInterpreter(COMPILED_MODEL, { delegate: 'edgetpu', edgetpu: { library: mock } });
      alone.setInput(0, x);
      alone.invoke();
      const want = alone.getOutput(0) as Uint8Array;
      alone.dispose();
      const s = x.reduce((a, b) => a + b, 0);
      expect(Array.from(want)).toEqual(Array.from({ length: 1001 }, (_, j) => (s + j) & 0xff));
      const r = await rt.submit('cls', [x]);
      expect(r.outputs).toEqual([want]);
      expect(r.trace).toMatchObject({ k: 1, cores: 0, cpu: null, tpu: { backend: 'edgetpu' } });
      // The file goes to the delegate as it is: no head compiler, and no other cut.
      expect(heads).toEqual([]);
      await expect(rt.reconfigure({ tenants: [{ name: 'cls', k: 0, cores: 1 }] })).rejects.toMatchObject({
        code: ErrorCodes.INVALID_ARGUMENT,
      });
      expect(rt.choice('cls')).toEqual({ k: 1, cores: 0, mode: 'mg1' });
    } finally {
      await rt.close();
    }
    expect(calls()).toContain('prepare claimed=1');
  });

  it('the emulated backend refuses a compiled model: give the uncompiled one', async () => {
    const rt = await createRuntime({ cores: 1 });
    await expect(
      rt.addTenant({ name: 'cls', model: COMPILED_MODEL, choice: { k: 1, cores: 0 } }),
    ).rejects.toMatchObject({
      code: ErrorCodes.UNSUPPORTED_MODEL,
      message: expect.stringMatching(/give the \.tflite that was passed to edgetpu_compiler/),
    });
    expect(rt.tenantNames).toEqual([]);
    await rt.close();
  });

  it('fails addTenant with DelegateUnavailableError when the device is missing', async () => {
    process.env.MOCK_EDGETPU_DEVICES = '';
    const rt = await createRuntime({ cores: 1, device: { edgetpu: { library: mock, device: 'usb:0' } } });
    await expect(
      rt.addTenant({ name: 'a', model: testNetBytes(0), choice: { k: 2, cores: 1 } }),
    ).rejects.toBeInstanceOf(DelegateUnavailableError);
    expect(rt.tenantNames).toEqual([]);
    await rt.close();
  });
});
