import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DelegateUnavailableError, ErrorCodes } from '@swapless/core';
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createInterpreter, type Interpreter, listEdgeTpus, runtimeInfo } from './index.js';
import { FACE_SHORT, pseudoRandom } from './test-support.js';

const mock = inject('mockEdgeTpuLibrary');
const dir = mkdtempSync(join(tmpdir(), 'swapless-edgetpu-'));
let log = '';
let n = 0;

beforeEach(() => {
  n += 1;
  log = join(dir, `calls-${n}.log`);
  process.env.MOCK_EDGETPU_LOG = log;
  delete process.env.MOCK_EDGETPU_DEVICES; // one USB device
  delete process.env.SWAPLESS_EDGETPU_LIB;
});
afterEach(() => {
  delete process.env.MOCK_EDGETPU_LOG;
  delete process.env.MOCK_EDGETPU_DEVICES;
  delete process.env.SWAPLESS_EDGETPU_LIB;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function calls(): string[] {
  try {
    return readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

const INPUT = pseudoRandom(128 * 128 * 3, 3);
function outputs(i: Interpreter): Float32Array[] {
  i.setInput(0, INPUT);
  i.invoke();
  return [i.getOutput(0) as Float32Array, i.getOutput(1) as Float32Array];
}

describe('Edge TPU delegate (mock libedgetpu)', () => {
  it("'edgetpu' creates the delegate with our options, before XNNPACK, and destroys it on dispose", () => {
    const i = createInterpreter(FACE_SHORT, {
      delegate: 'edgetpu',
      edgetpu: { library: mock, device: 'usb:0', options: { performance: 'max' } },
    });
    expect(i.backend).toMatchObject({
      requested: 'edgetpu',
      delegates: ['edgetpu', 'xnnpack'],
      edgetpu: true,
      xnnpack: true,
      edgetpuLibrary: mock,
    });
    expect(i.backend.fallbackReason).toBeUndefined();
    const withTpu = outputs(i);
    expect(calls()).toEqual(['create performance=max device=usb:0', 'prepare']);
    i.dispose();
    expect(calls()).toEqual(['create performance=max device=usb:0', 'prepare', 'destroy']);

    // The mock claims no nodes, so the results are exactly those of the CPU path.
    const cpu = createInterpreter(FACE_SHORT, { delegate: 'cpu' });
    expect(outputs(cpu)).toEqual(withTpu);
    cpu.dispose();
  });

  it('runs invokeAsync with the delegate applied', async () => {
    const i = createInterpreter(FACE_SHORT, { delegate: 'edgetpu', edgetpu: { library: mock } });
    i.setInput(0, INPUT);
    await i.invokeAsync();
    expect(i.getOutput(1)).toHaveLength(896);
    i.dispose();
    expect(calls()).toEqual(['create', 'prepare', 'destroy']);
  });

  it("'auto' falls back to the CPU with the reason when the device is missing", () => {
    const i = createInterpreter(FACE_SHORT, {
      delegate: 'auto',
      edgetpu: { library: mock, device: 'pci:0' },
    });
    expect(i.backend).toMatchObject({ requested: 'auto', delegates: ['xnnpack'], edgetpu: false });
    expect(i.backend.fallbackReason).toMatch(/Could not find Edge TPU device pci:0/);
    expect(calls()).toEqual(['create-failed device=pci:0']);
    i.dispose();
  });

  it("'auto' falls back when the library is absent, and uses it when present", () => {
    const absent = createInterpreter(FACE_SHORT, {
      delegate: 'auto',
      edgetpu: { library: '/nonexistent/libedgetpu.so.1' },
    });
    expect(absent.backend.edgetpu).toBe(false);
    expect(absent.backend.fallbackReason).toMatch(/dlopen failed for \/nonexistent\/libedgetpu\.so\.1/);
    absent.dispose();
    process.env.SWAPLESS_EDGETPU_LIB = mock;
    const present = createInterpreter(FACE_SHORT, { delegate: 'auto' });
    expect(present.backend).toMatchObject({ edgetpu: true, edgetpuLibrary: mock });
    present.dispose();
  });

  it("'edgetpu' throws DelegateUnavailableError listing why", () => {
    process.env.MOCK_EDGETPU_DEVICES = '';
    let caught: unknown;
    try {
      createInterpreter(FACE_SHORT, { delegate: 'edgetpu', edgetpu: { library: mock, device: 'usb' } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DelegateUnavailableError);
    expect(caught).toMatchObject({ code: ErrorCodes.DELEGATE_UNAVAILABLE, details: { library: mock } });
    const reasons = (caught as DelegateUnavailableError).details.reasons as string[];
    expect(reasons.join('\n')).toMatch(/returned no delegate/);
    expect(reasons.join('\n')).toMatch(/Could not find Edge TPU device usb/);
    expect(calls()).toEqual(['create-failed device=usb']);

    expect(() =>
      createInterpreter(FACE_SHORT, { delegate: 'edgetpu', edgetpu: { library: '/nonexistent/lib.so' } }),
    ).toThrow(/dlopen failed for \/nonexistent\/lib\.so/);
  });

  it("'cpu' never touches the Edge TPU library", () => {
    process.env.SWAPLESS_EDGETPU_LIB = mock;
    const i = createInterpreter(FACE_SHORT, { delegate: 'cpu' });
    expect(i.backend.edgetpuLibrary).toBeUndefined();
    i.dispose();
    expect(calls()).toEqual([]);
  });

  it('lists devices through edgetpu_list_devices, and nothing when the library is absent', () => {
    process.env.MOCK_EDGETPU_DEVICES = 'usb:/sys/bus/usb/devices/2-1,pci:/dev/apex_0';
    expect(listEdgeTpus({ library: mock })).toEqual([
      { type: 'usb', path: '/sys/bus/usb/devices/2-1' },
      { type: 'pci', path: '/dev/apex_0' },
    ]);
    expect(calls()).toEqual(['list 2', 'free-devices']);
    expect(listEdgeTpus({ library: '/nonexistent/libedgetpu.so.1' })).toEqual([]);
    process.env.MOCK_EDGETPU_DEVICES = '';
    expect(listEdgeTpus({ library: mock })).toEqual([]);
  });

  it('runtimeInfo reports the Edge TPU library that would be used', () => {
    expect(runtimeInfo().edgetpuLibrary).toBe('libedgetpu.so.1');
    process.env.SWAPLESS_EDGETPU_LIB = mock;
    expect(runtimeInfo().edgetpuLibrary).toBe(mock);
  });
});
