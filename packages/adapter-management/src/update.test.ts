import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ManagementBackend, managementRoutes, type TenantSpec, type TenantUpdate } from './routes.js';

/** A backend whose tenants sit on one of two Edge TPUs and can be moved (`update`). */
class DevicesBackend implements ManagementBackend {
  readonly map = new Map<string, TenantSpec & { device: string }>([
    ['cam', { name: 'cam', model: 'mobilenet_v2', device: 'tpu-a' }],
  ]);
  readonly updates: [string, TenantUpdate][] = [];
  tenants = () => [...this.map.values()];
  tenant = (name: string) => this.map.get(name);
  async register(spec: TenantSpec) {
    const t = { ...spec, device: spec.device ?? 'tpu-a' };
    this.map.set(spec.name, t);
    return t;
  }
  async unregister(name: string) {
    this.map.delete(name);
  }
  async update(name: string, change: TenantUpdate) {
    this.updates.push([name, change]);
    if (change.device !== null && !['tpu-a', 'tpu-b'].includes(change.device)) {
      throw new InvalidArgumentError(
        `Expected one of the devices tpu-a, tpu-b but received "${change.device}"`,
      );
    }
    const t = this.map.get(name)!;
    t.device = change.device ?? 'tpu-a';
    return t;
  }
  controller = () => ({});
  history = () => [];
  models = () => ({ repository: [], zoo: [], skipped: [] });
}

describe('management API: placing tenants on Edge TPUs', () => {
  const backend = new DevicesBackend();
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify();
    await managementRoutes(app, { backend });
    await app.ready();
  });
  afterAll(() => app.close());

  const call = (method: 'POST' | 'PATCH' | 'PUT', url: string, payload: unknown) =>
    app.inject({ method, url, payload: JSON.stringify(payload) });

  it('registers a tenant on a device and moves it with PATCH', async () => {
    const added = await call('POST', '/api/v1/tenants', {
      name: 'door',
      model: 'mobilenet_v1',
      device: 'tpu-b',
    });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ name: 'door', device: 'tpu-b' });
    const moved = await call('PATCH', '/api/v1/tenants/cam', { device: 'tpu-b' });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ name: 'cam', device: 'tpu-b' });
    expect((await call('PATCH', '/api/v1/tenants/cam', { device: null })).json()).toMatchObject({
      device: 'tpu-a',
    });
    expect(backend.updates).toEqual([
      ['cam', { device: 'tpu-b' }],
      ['cam', { device: null }],
    ]);
  });

  it('refuses a bad change (400, validated before the backend), an unknown device (400) and an unknown tenant (404)', async () => {
    const before = backend.updates.length;
    for (const body of [{}, { device: 3 }, { device: '' }, { device: 'tpu-b', k: 3 }]) {
      const r = await call('PATCH', '/api/v1/tenants/cam', body);
      expect(r.statusCode).toBe(400);
      expect(r.json().error).toMatch(/^Expected a tenant change \(\{ device: string \| null \}\)/);
    }
    expect(backend.updates.length).toBe(before);
    const unknown = await call('PATCH', '/api/v1/tenants/cam', { device: 'tpu-z' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
    expect((await call('PATCH', '/api/v1/tenants/nobody', { device: 'tpu-a' })).statusCode).toBe(404);
    expect((await call('PUT', '/api/v1/tenants/cam', {})).headers.allow).toBe('GET, HEAD, DELETE, PATCH');
  });
});
