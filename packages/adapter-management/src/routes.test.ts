import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import {
  ConflictError,
  DelegateUnavailableError,
  ErrorCodes,
  InvalidArgumentError,
  InvalidModelError,
  isSwapLessError,
  ModelRejectedError,
  NotFoundError,
  ShuttingDownError,
} from '@swapless/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ManagementBackend, managementRoutes, managementStatusOf, type TenantSpec } from './routes.js';

/**
 * A small in-memory backend with the service's error behaviour: duplicate names, unknown models, a malformed
 * model, a core budget, shutting down. The adapter's contract is this interface; the real service is tested
 * end to end by the server.
 */
class MemoryBackend implements ManagementBackend {
  readonly map = new Map<string, TenantSpec & { k: number; cores: number }>();
  readonly decisions: { seq: number }[] = Array.from({ length: 250 }, (_, i) => ({ seq: i + 1 }));
  closing = false;
  maxTenants = 3;
  lastHistoryLimit = 0;

  tenants() {
    return [...this.map.values()];
  }
  tenant(name: string) {
    return this.map.get(name);
  }
  async register(spec: TenantSpec) {
    await new Promise((r) => setTimeout(r, 1));
    if (this.closing) throw new ShuttingDownError('The service is closing');
    if (this.map.has(spec.name))
      throw new ConflictError(`Tenant ${JSON.stringify(spec.name)} exists`, {
        details: { reason: 'duplicate-tenant' },
      });
    if (spec.model === 'broken.tflite')
      throw new InvalidModelError('Expected a .tflite model but received 12 bytes');
    if (spec.model === 'legacy')
      throw new InvalidArgumentError('Expected a new tenant name but received "x"', {
        details: { reason: 'duplicate-tenant' },
      });
    if (spec.model === 'crash')
      throw new ModelRejectedError('Rejected repository model crash: … ended with signal SIGSEGV …', {
        details: { reason: 'signal SIGSEGV', stage: 'create' },
      });
    if (!['cam', 'mobilenet_v1', 'mobilenet_v2'].includes(spec.model))
      throw new InvalidArgumentError(
        `Expected a repository or zoo model but received ${JSON.stringify(spec.model)}`,
        {
          details: { reason: 'unknown-model' },
        },
      );
    if (this.map.size >= this.maxTenants)
      throw new ConflictError('Expected at most 3 tenants for 3 cores but received 4', {
        details: { reason: 'core-budget' },
      });
    const t = { ...spec, k: 3, cores: 1 };
    this.map.set(spec.name, t);
    return t;
  }
  async unregister(name: string) {
    if (!this.map.delete(name))
      throw new NotFoundError(`No tenant ${name}`, { details: { reason: 'unknown-tenant' } });
  }
  /** Names remembered but not served (a saved registration that could not be restored). */
  readonly remembered = new Set<string>();
  async forget(name: string) {
    return this.remembered.delete(name);
  }
  controller() {
    return { policy: 'swapless', ticks: 4, decisions: this.decisions.length };
  }
  history(limit: number) {
    this.lastHistoryLimit = limit;
    return this.decisions.slice(-limit);
  }
  models() {
    return {
      repository: ['cam'],
      zoo: ['mobilenet_v1', 'mobilenet_v2'],
      skipped: [{ name: 'broken', code: 'SWAPLESS_INVALID_MODEL', message: 'truncated' }],
    };
  }
}

// biome-ignore lint/suspicious/noExplicitAny: test responses are read field by field.
type Json = any;

describe('managementRoutes', () => {
  let app: FastifyInstance;
  let backend: MemoryBackend;
  let base: string;

  beforeAll(async () => {
    backend = new MemoryBackend();
    app = Fastify();
    await managementRoutes(app, { backend });
    app.post('/other', async (request) => ({ got: request.body }));
    base = `${await app.listen({ port: 0, host: '127.0.0.1' })}/api/v1`;
  });
  afterAll(() => app.close());
  beforeEach(() => {
    backend.map.clear();
    backend.closing = false;
  });

  /** One request through node:http, which sends the path as written (fetch would normalise dot segments). */
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: Json }>((resolve, reject) => {
      const data =
        body === undefined
          ? undefined
          : typeof body === 'string' || Buffer.isBuffer(body)
            ? body
            : JSON.stringify(body);
      const req = httpRequest(
        `${base}${path}`,
        {
          method,
          headers: data === undefined ? headers : { 'content-type': 'application/json', ...headers },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: text === '' ? undefined : JSON.parse(text),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(data);
    });

  async function expectError(
    r: Awaited<ReturnType<typeof call>>,
    status: number,
    message: RegExp,
  ): Promise<void> {
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toBe('application/json');
    // `{ error }`, plus the stable code of a SwapLess error (and a rejection's reason).
    expect(Object.keys(r.body).filter((k) => k !== 'code' && k !== 'reason')).toEqual(['error']);
    if (r.body.code !== undefined) expect(r.body.code).toMatch(/^SWAPLESS_[A-Z_]+$/);
    expect(r.body.error).toMatch(message);
    // Still serving.
    expect((await call('GET', '/tenants')).status).toBe(200);
  }

  it('registers, lists, reads and unregisters tenants', async () => {
    expect(await call('GET', '/tenants')).toMatchObject({ status: 200, body: { tenants: [] } });
    const created = await call('POST', '/tenants', {
      name: 'cam-1',
      model: 'mobilenet_v1',
      rate: 20,
      sloMs: 50,
    });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe('/api/v1/tenants/cam-1');
    expect(created.body).toEqual({
      name: 'cam-1',
      model: 'mobilenet_v1',
      rate: 20,
      sloMs: 50,
      k: 3,
      cores: 1,
    });
    await call('POST', '/tenants', { name: 'b.2', model: 'cam' });
    expect((await call('GET', '/tenants')).body.tenants.map((t: TenantSpec) => t.name)).toEqual([
      'cam-1',
      'b.2',
    ]);
    // An SLO percentile reaches the backend as given.
    const p95 = await call('POST', '/tenants', {
      name: 'mic',
      model: 'cam',
      sloMs: 40,
      sloPercentile: 'p95',
    });
    expect(p95.body).toMatchObject({ sloMs: 40, sloPercentile: 'p95' });
    await call('DELETE', '/tenants/mic');
    expect((await call('GET', '/tenants/b.2')).body).toMatchObject({ name: 'b.2', model: 'cam' });
    const removed = await call('DELETE', '/tenants/cam-1');
    expect(removed.status).toBe(204);
    expect(removed.body).toBeUndefined();
    expect([...backend.map.keys()]).toEqual(['b.2']);
  });

  it('accepts a JSON body without a JSON content type (curl -d)', async () => {
    const r = await call('POST', '/tenants', '{"name":"c","model":"cam"}', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(r.status).toBe(201);
  });

  it('validates registrations with ajv: names, rate > 0, sloMs > 0, unknown fields, JSON', async () => {
    const bad: [unknown, RegExp][] = [
      [{ name: '../etc', model: 'cam' }, /body\/name: must match pattern/],
      [{ name: '-x', model: 'cam' }, /body\/name: must match pattern/],
      [{ name: 'a'.repeat(65), model: 'cam' }, /body\/name: must match pattern/],
      [{ name: 'x', model: 'cam', rate: 0 }, /body\/rate: must be > 0/],
      [{ name: 'x', model: 'cam', rate: '5' }, /body\/rate: must be number/],
      [{ name: 'x', model: 'cam', sloMs: -1 }, /body\/sloMs: must be > 0/],
      [
        { name: 'x', model: 'cam', sloMs: 5, sloPercentile: 'p90' },
        /body\/sloPercentile: must be equal to one of/,
      ],
      [
        { name: 'x', model: 'cam', sloPercentile: 'p95' },
        /body\/: must have property sloMs when property sloPercentile is present/,
      ],
      [
        { name: 'x', model: 'cam', cores: 2 },
        /must NOT have additional properties \(unknown property "cores"\)/,
      ],
      [{ model: 'cam' }, /must have required property 'name'/],
      [[1], /body\/: must be object/],
    ];
    for (const [body, message] of bad) {
      await expectError(await call('POST', '/tenants', body), 400, /^Expected a tenant registration/);
      const r = await call('POST', '/tenants', body);
      expect(r.body.error).toMatch(message);
    }
    await expectError(
      await call('POST', '/tenants', '{"name": "x",'),
      400,
      /^Expected a JSON request body but it does not parse/,
    );
    await expectError(
      await call('POST', '/tenants'),
      400,
      /^Expected a tenant registration .* but received: body\/: must be object$/,
    );
    expect(backend.map.size).toBe(0);
  });

  it('maps the backend’s errors: 409 duplicate and core budget, 400 unknown or bad model, 503 closing', async () => {
    await call('POST', '/tenants', { name: 'a', model: 'cam' });
    const duplicate = await call('POST', '/tenants', { name: 'a', model: 'cam' });
    await expectError(duplicate, 409, /exists/);
    expect(duplicate.body).toEqual({ error: expect.any(String), code: ErrorCodes.CONFLICT });
    const unknownModel = await call('POST', '/tenants', { name: 'b', model: 'nope' });
    await expectError(unknownModel, 400, /Expected a repository or zoo model/);
    expect(unknownModel.body.code).toBe(ErrorCodes.INVALID_ARGUMENT);
    // The status follows the code alone: a reason that once meant 409 is only detail on an InvalidArgumentError.
    await expectError(await call('POST', '/tenants', { name: 'b', model: 'legacy' }), 400, /new tenant name/);
    await expectError(
      await call('POST', '/tenants', { name: 'b', model: 'broken.tflite' }),
      400,
      /\.tflite model/,
    );
    await call('POST', '/tenants', { name: 'b', model: 'cam' });
    await call('POST', '/tenants', { name: 'c', model: 'cam' });
    const budget = await call('POST', '/tenants', { name: 'd', model: 'cam' });
    await expectError(budget, 409, /at most 3 tenants/);
    expect(budget.body.code).toBe(ErrorCodes.CONFLICT);
    backend.closing = true;
    const r = await call('POST', '/tenants', { name: 'e', model: 'cam' });
    expect(r.headers['retry-after']).toBe('1');
    await expectError(r, 503, /closing/);
  });

  it('refuses a model that failed vetting: 400 with the code and the reason', async () => {
    const r = await call('POST', '/tenants', { name: 'x', model: 'crash' });
    await expectError(r, 400, /signal SIGSEGV/);
    expect(r.body).toMatchObject({ code: ErrorCodes.MODEL_REJECTED, reason: 'signal SIGSEGV' });
    // Other typed errors carry their code but no reason.
    const dup = await call('POST', '/tenants', { name: 'y', model: 'broken.tflite' });
    expect(dup.body).toEqual({ error: expect.any(String), code: ErrorCodes.INVALID_MODEL });
  });

  it('answers 404 for unknown tenants and 400 for malformed names, raw or encoded', async () => {
    const ghost = await call('GET', '/tenants/ghost');
    await expectError(ghost, 404, /^Expected the name of a registered tenant but received "ghost"$/);
    expect(ghost.body.code).toBe(ErrorCodes.NOT_FOUND);
    const gone = await call('DELETE', '/tenants/ghost');
    await expectError(gone, 404, /registered tenant/);
    expect(gone.body.code).toBe(ErrorCodes.NOT_FOUND);
    // A name the backend remembers without serving it is dropped (204) once, then unknown.
    backend.remembered.add('kept');
    expect((await call('DELETE', '/tenants/kept')).status).toBe(204);
    expect(backend.remembered.has('kept')).toBe(false);
    await expectError(await call('DELETE', '/tenants/kept'), 404, /registered tenant/);
    for (const name of ['..%2F..%2Fetc', '%2E%2E%5Cx', '.x', '%00', 'a%20b']) {
      await expectError(
        await call('GET', `/tenants/${name}`),
        400,
        /^Expected a valid tenant name but received: params\/name: must match pattern/,
      );
      await expectError(await call('DELETE', `/tenants/${name}`), 400, /must match pattern/);
    }
    // A bare dot segment: the router may resolve it to another route (404) or see the name (400); never a crash.
    for (const name of ['..', '%2e%2e']) {
      const r = await call('DELETE', `/tenants/${name}`);
      expect([400, 404]).toContain(r.status);
      await expectError(r, r.status, /^Expected/);
    }
    await expectError(
      await call('GET', '/nothing'),
      404,
      /^Expected a management route under \/api\/v1 but received GET/,
    );
  });

  it('answers 405 with Allow for a known path with another method', async () => {
    const r = await call('PUT', '/tenants/ghost', {});
    expect(r.headers.allow).toBe('GET, HEAD, DELETE');
    await expectError(
      r,
      405,
      /^Expected GET, HEAD or DELETE for "\/api\/v1\/tenants\/ghost" but received PUT$/,
    );
    const list = await call('DELETE', '/tenants');
    expect(list.headers.allow).toBe('GET, HEAD, POST');
    await expectError(list, 405, /but received DELETE$/);
  });

  it('reads gzip, deflate and br registrations; 415 for other codings, 413 past the limit once decoded', async () => {
    const spec = JSON.stringify({ name: 'zipped', model: 'cam' });
    for (const [coding, encode] of [
      ['gzip', gzipSync],
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
    ] as const) {
      const r = await call('POST', '/tenants', encode(spec), {
        'content-encoding': coding,
        'content-type': 'application/json',
      });
      expect(r.status, coding).toBe(201);
      expect((await call('DELETE', '/tenants/zipped')).status).toBe(204);
    }
    const bad = await call('POST', '/tenants', spec, { 'content-encoding': 'compress' });
    expect(bad.headers['accept-encoding']).toBe('gzip, deflate, br');
    await expectError(bad, 415, /^Expected a Content-Encoding of gzip, deflate, br or identity/);
    // 1 MiB of spaces around the JSON: ~1 KB encoded, far past the 64 KiB limit once decoded.
    const padded = gzipSync(`${' '.repeat(1 << 20)}${spec}`);
    await expectError(
      await call('POST', '/tenants', padded, { 'content-encoding': 'gzip' }),
      413,
      /^Expected a request body of at most 65536 bytes once decoded \(Content-Encoding: gzip\)/,
    );
  });

  it('reports the controller, its history with a validated limit, and the models', async () => {
    expect((await call('GET', '/controller')).body).toEqual({ policy: 'swapless', ticks: 4, decisions: 250 });
    const h = await call('GET', '/controller/history');
    expect(h.body.history).toHaveLength(100);
    expect(backend.lastHistoryLimit).toBe(100);
    const h5 = await call('GET', '/controller/history?limit=5');
    expect(h5.body.history.map((d: { seq: number }) => d.seq)).toEqual([246, 247, 248, 249, 250]);
    for (const q of ['limit=0', 'limit=abc', 'limit=1.5', 'limit=10001', 'other=1']) {
      await expectError(
        await call('GET', `/controller/history?${q}`),
        400,
        /^Expected a query string with an optional integer limit/,
      );
    }
    expect((await call('GET', '/models')).body).toEqual(backend.models());
  });

  it('leaves the rest of the app alone', async () => {
    const r = await fetch(`${base.replace('/api/v1', '')}/other`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(await r.json()).toEqual({ got: { a: 1 } });
  });

  it('works under another prefix and rejects bad options', async () => {
    const other = Fastify();
    await managementRoutes(other, { backend, prefix: '/admin' });
    const r = await other.inject({ method: 'GET', url: '/admin/models' });
    expect(r.statusCode).toBe(200);
    expect((await other.inject({ method: 'GET', url: '/api/v1/models' })).statusCode).toBe(404);
    await other.close();
    const bad = async (options: unknown) =>
      managementRoutes(Fastify(), options as never).then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isSwapLessError(await bad({ backend: {} }), ErrorCodes.INVALID_ARGUMENT)).toBe(true);
    expect(isSwapLessError(await bad({ backend, prefix: 'api' }), ErrorCodes.INVALID_ARGUMENT)).toBe(true);
    expect(isSwapLessError(await bad({ backend, bodyLimit: -1 }), ErrorCodes.INVALID_ARGUMENT)).toBe(true);
  });

  it('maps codes to statuses', () => {
    expect(managementStatusOf(new NotFoundError('x', { details: { reason: 'unknown-tenant' } }))).toBe(404);
    expect(managementStatusOf(new ConflictError('x', { details: { reason: 'duplicate-tenant' } }))).toBe(409);
    // By code alone: the reasons of an InvalidArgumentError (an unknown model in a registration included) are 400.
    for (const reason of ['unknown-tenant', 'duplicate-tenant', 'unknown-model'])
      expect(managementStatusOf(new InvalidArgumentError('x', { details: { reason } }))).toBe(400);
    expect(managementStatusOf(new InvalidArgumentError('x'))).toBe(400);
    expect(managementStatusOf(new InvalidModelError('x'))).toBe(400);
    expect(managementStatusOf(new ShuttingDownError('x'))).toBe(503);
    expect(managementStatusOf(new DelegateUnavailableError('x'))).toBe(503);
    expect(managementStatusOf(Object.assign(new Error('x'), { statusCode: 413 }))).toBe(413);
    expect(managementStatusOf(new Error('x'))).toBe(500);
  });
});
