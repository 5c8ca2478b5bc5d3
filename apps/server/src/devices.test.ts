// Several Edge TPUs: the config's `devices` (checked like every other key), `--tenant NAME=MODEL@DEVICE`, and end
// to end over real HTTP a server with two emulated devices that places, moves and reports its tenants.
import { ErrorCodes, InvalidConfigError, UsageError } from '@swapless/core';
import { buildTestNet } from '@swapless/int8-builder';
import { SeededRandom, writeModel } from '@swapless/tflite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServeArgs } from './args.js';
import { parseConfig } from './config.js';
import { type RunningServer, serviceOptionsOf, startServer } from './server.js';
import { reference, testServerConfig, useServerWork } from './test-support.js';

function problemsOf(input: unknown): string[] {
  try {
    parseConfig(input, { source: 'test' });
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).code).toBe(ErrorCodes.INVALID_CONFIG);
    return [...(error as InvalidConfigError).problems];
  }
  throw new Error('expected an InvalidConfigError');
}

/** One KServe inference of the test net on `base`, answered 200 with the unsplit model's outputs. */
async function inferChecked(base: string, model: Uint8Array, name: string, seed: number): Promise<void> {
  const x = new Int8Array(16 * 16 * 3);
  new SeededRandom(seed).fillUniformInt8(x);
  const res = await fetch(`${base}/v2/models/${name}/infer`, {
    method: 'POST',
    body: JSON.stringify({
      inputs: [{ name: 'input', datatype: 'INT8', shape: [1, 16, 16, 3], data: Array.from(x) }],
    }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { outputs: { data: number[] }[] };
  expect(body.outputs[0]!.data).toEqual(reference(model, x)[0]);
}

/**
 * A server on two emulated Edge TPUs, the first of the `usb3` profile and the second `pcie`, serving the test net
 * as tenants `a` (placed by the controller) and `b` (on the second device).
 */
function startTwoDevices(
  dirs: { work(): string; repo(): string },
  [first, second]: [string, string],
  control: { policy: 'fixed' | 'swapless'; cores: number },
): Promise<RunningServer> {
  return startServer(
    {
      ...testServerConfig(dirs.work(), dirs.repo()),
      device: 'usb3',
      devices: [{ id: first }, { id: second, profile: 'pcie' }],
      ...control,
      tenants: [
        { name: 'a', model: 'testnet', rate: 20 },
        { name: 'b', model: 'testnet', rate: 20, device: second },
      ],
      logLevel: 'silent',
    },
    { progress: false },
  );
}

describe('config: devices', () => {
  it('defaults to one device and passes a device list to the service', () => {
    const one = parseConfig({}, { source: 'test' }).config;
    expect(one.devices).toBeNull();
    expect(serviceOptionsOf(one).devices).toBeUndefined();
    const two = parseConfig(
      {
        devices: [{ id: 'tpu-a' }, { id: 'tpu-b', profile: 'pcie' }],
        // A middle cut for every tenant: both have an Edge TPU stage whatever the load.
        policy: 'fixed',
        cores: 2,
        tenants: [{ name: 'cam', model: 'mobilenet_v2', device: 'tpu-b' }],
      },
      { source: 'test' },
    ).config;
    expect(two.devices).toEqual([{ id: 'tpu-a' }, { id: 'tpu-b', profile: 'pcie' }]);
    expect(two.tenants[0]!.device).toBe('tpu-b');
    expect(serviceOptionsOf(two).devices).toEqual([{ id: 'tpu-a' }, { id: 'tpu-b', profile: 'pcie' }]);
  });

  it('refuses duplicate ids, unknown profiles, unknown tenant devices and bad shapes, naming each', () => {
    expect(
      problemsOf({
        devices: [{ id: 'tpu-a' }, { id: 'tpu-a', profile: 'usb9' }],
        tenants: [{ name: 'cam', model: 'mobilenet_v2', device: 'tpu-c' }],
      }),
    ).toEqual([
      '/devices/1/id: duplicate device id "tpu-a"',
      '/devices/1/profile: unknown device profile "usb9" (valid: usb3, usb2, pcie, devboard)',
      '/tenants/0/device: unknown device "tpu-c" (devices: tpu-a)',
    ]);
    expect(problemsOf({ tenants: [{ name: 'cam', model: 'm', device: 'usb:0' }] })).toEqual([
      '/tenants/0/device: unknown device "usb:0" (no devices list: add one under devices)',
    ]);
    expect(problemsOf({ devices: [] }).join('\n')).toMatch(/\/devices/);
    expect(problemsOf({ devices: [{ id: 'a', extra: 1 }] }).join('\n')).toMatch(/extra/);
    expect(problemsOf({ devices: [{ profile: 'usb3' }] }).join('\n')).toMatch(/id/);
  });

  it('--tenant NAME=MODEL@DEVICE names the device; a bad one is a usage error', () => {
    expect(
      parseServeArgs(['--tenant', 'cam=mobilenet_v2@usb:1', '--tenant', 'doorbell']).overrides.tenants,
    ).toEqual([
      { name: 'cam', model: 'mobilenet_v2', device: 'usb:1' },
      { name: 'doorbell', model: 'doorbell' },
    ]);
    expect(parseServeArgs(['--tenant', 'cam@tpu-b']).overrides.tenants).toEqual([
      { name: 'cam', model: 'cam', device: 'tpu-b' },
    ]);
    expect(() => parseServeArgs(['--tenant', 'cam=m@'])).toThrow(UsageError);
  });
});

describe('a server with two emulated Edge TPUs', () => {
  const model = writeModel(buildTestNet(3));
  const dirs = useServerWork('server-devices', { testnet: model });
  let server: RunningServer;
  let base: string;

  beforeAll(async () => {
    // A middle cut for every tenant: both have an Edge TPU stage whatever the load.
    server = await startTwoDevices(dirs, ['tpu-a', 'tpu-b'], { policy: 'fixed', cores: 2 });
    base = server.urls.base;
  });

  afterAll(async () => {
    await server?.close();
  });

  const infer = (name: string, seed: number) => inferChecked(base, model, name, seed);
  const json = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${base}${path}`, init);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('shows the placement in the tenant listing, the controller status and the metrics, and moves a tenant live', async () => {
    const tenants = (await json('/api/v1/tenants')).body.tenants as {
      name: string;
      device: string;
      pinned: boolean;
    }[];
    expect(tenants.map((t) => [t.name, t.device, t.pinned])).toEqual([
      ['a', 'tpu-a', false],
      ['b', 'tpu-b', true],
    ]);
    expect((await json('/api/v1/controller')).body.devices).toEqual([
      { id: 'tpu-a', profile: 'usb3' },
      { id: 'tpu-b', profile: 'pcie' },
    ]);
    for (let i = 0; i < 4; i++) await infer(i % 2 ? 'b' : 'a', i);
    // Move b to tpu-a while requests are in flight: all of them answer 200 with the right outputs.
    const load = Array.from({ length: 12 }, (_, i) => infer(i % 2 ? 'b' : 'a', i));
    const moved = await json('/api/v1/tenants/b', {
      method: 'PATCH',
      body: JSON.stringify({ device: 'tpu-a' }),
    });
    await Promise.all(load);
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ name: 'b', device: 'tpu-a', pinned: true });
    await infer('b', 9);
    const bad = await json('/api/v1/tenants/b', {
      method: 'PATCH',
      body: JSON.stringify({ device: 'tpu-z' }),
    });
    expect(bad).toMatchObject({ status: 400, body: { code: ErrorCodes.INVALID_ARGUMENT } });
    expect(String(bad.body.error)).toContain('tpu-a, tpu-b');
    expect((await json('/api/v1/tenants/zz', { method: 'PATCH', body: '{"device":"tpu-a"}' })).status).toBe(
      404,
    );
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('swapless_tenant_device_info{tenant="b",device="tpu-a"} 1');
    expect(metrics).toMatch(/swapless_device_busy_seconds_total\{device="tpu-b"\} [0-9.e-]+/);
    expect(metrics).toMatch(
      /swapless_stage_duration_seconds_count\{tenant="b",stage="tpu",timing="emulated",device="tpu-b"\} \d+/,
    );
    expect(metrics).toMatch(
      /swapless_stage_duration_seconds_count\{tenant="b",stage="tpu",timing="emulated",device="tpu-a"\} \d+/,
    );
    const dashboard = (await json('/dashboard/data')).body as {
      device: { devices: { id: string; tenants: string[] }[] };
    };
    expect(dashboard.device.devices.map((d) => [d.id, d.tenants])).toEqual([
      ['tpu-a', ['a', 'b']],
      ['tpu-b', []],
    ]);
  });
});

describe('a server planning Edge TPUs of different profiles (usb3 + pcie) with the swapless policy', () => {
  const model = writeModel(buildTestNet(3));
  const dirs = useServerWork('server-mixed-devices', { testnet: model });
  let server: RunningServer;

  beforeAll(async () => {
    // One core for two tenants: at least one of them runs its head on an Edge TPU.
    server = await startTwoDevices(dirs, ['usb:0', 'pci:0'], { policy: 'swapless', cores: 1 });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('plans each device with the catalogs of its profile and serves tenants on both', async () => {
    expect(server.failed).toEqual([]);
    const catalog = server.service.catalog('a');
    expect(catalog.device).toBe('usb3');
    expect(catalog.onDevice?.['pci:0']?.device).toBe('pcie');
    expect(catalog.onDevice?.['usb:0']).toBeUndefined();
    const status = server.service.controller();
    expect(status.devices).toEqual([
      { id: 'usb:0', profile: 'usb3' },
      { id: 'pci:0', profile: 'pcie' },
    ]);
    expect(status.policy).toBe('swapless');
    expect(status.lastDecision).not.toBeNull();
    for (let i = 0; i < 6; i++) await inferChecked(server.urls.base, model, i % 2 ? 'b' : 'a', i);
    // b stays on the pcie device it names; a is placed. A tenant with a head ran it on its own device.
    const placed = server.service.tenants();
    expect(placed.map((t) => t.name)).toEqual(['a', 'b']);
    expect(['usb:0', 'pci:0']).toContain(placed[0]!.device);
    expect(placed[1]!.device).toBe('pci:0');
    const onTpu = placed.filter((t) => t.k > 0);
    expect(onTpu.length).toBeGreaterThan(0);
    const metrics = await (await fetch(`${server.urls.base}/metrics`)).text();
    for (const t of onTpu) {
      expect(metrics).toContain(
        `swapless_stage_duration_seconds_count{tenant="${t.name}",stage="tpu",timing="emulated",device="${t.device}"}`,
      );
    }
  });
});
