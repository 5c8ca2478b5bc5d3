// Authentication end to end over real HTTP: the real server with bearer tokens (inline, from a file, from the
// environment), listening on loopback and beyond it, and the logs it writes while refusing and admitting requests.
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { KServeClient, KServeClientError } from '@swapless/adapter-kserve';
import { tinyModel } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessOf, bearerToken, installAuth, isLoopbackHost } from './auth.js';
import { flushLogger } from './logger.js';
import { serve } from './serve.js';
import { type RunningServer, startServer } from './server.js';
import { reference, testServerConfig, useServerWork } from './test-support.js';

const ADMIN = 'adm1n-0123456789abcdef0123456789abcdef';
const INFERENCE = 'inf3rence-0123456789abcdef01234567';
const METRICS = 'm3trics-0123456789abcdef0123456789';
const WRONG = 'wr0ng-0123456789abcdef0123456789abcd';
const tiny = writeModel(tinyModel({ type: 'int8', shape: [1, 8] }));
const X = [1, 2, 3, 4, -1, -2, -3, -4];
const dirs = useServerWork('auth', { tiny });

interface Answer {
  status: number;
  headers: Headers;
  body: { error?: string; code?: string } & Record<string, unknown>;
  text: string;
}

async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; authorization?: string; body?: unknown } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  let body = {};
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (the dashboard page, metrics).
  }
  return { status: res.status, headers: res.headers, body, text };
}

const infer = {
  inputs: [{ name: 'x', datatype: 'INT8', shape: [1, 8], data: X }],
};

describe('the access policy', () => {
  it('sorts routes: probes open, /v2 inference, /api/v1 changes admin, reads open, /metrics its own', () => {
    expect(accessOf('GET', '/v2/health/live')).toBe('open');
    expect(accessOf('GET', '/v2/health/ready')).toBe('open');
    expect(accessOf('HEAD', '/v2/health/ready')).toBe('open');
    expect(accessOf('GET', '/v2')).toBe('inference');
    expect(accessOf('GET', '/v2/models/:name')).toBe('inference');
    expect(accessOf('GET', '/v2/models/:name/ready')).toBe('inference');
    expect(accessOf('POST', '/v2/models/:name/infer')).toBe('inference');
    expect(accessOf('POST', '/v2/repository/index')).toBe('inference');
    expect(accessOf('POST', '/v2/repository/models/:name/load')).toBe('admin');
    expect(accessOf('GET', '/api/v1/tenants')).toBe('open');
    expect(accessOf('HEAD', '/api/v1/models')).toBe('open');
    for (const m of ['POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'post']) {
      expect(accessOf(m, '/api/v1/tenants')).toBe('admin');
      expect(accessOf(m, '/api/v1/controller/policy')).toBe('admin');
    }
    expect(accessOf('GET', '/metrics')).toBe('metrics');
    expect(accessOf('GET', '/')).toBe('open');
    expect(accessOf('GET', '/dashboard/data')).toBe('open');
    // Prefixes are whole path segments.
    expect(accessOf('POST', '/api/v10')).toBe('open');
    expect(accessOf('GET', '/v20')).toBe('open');
  });

  it('tells loopback addresses from the others', () => {
    for (const h of ['127.0.0.1', '127.8.9.10', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '[::]', '192.168.1.4', '10.0.0.1', 'example.com', '128.0.0.1', '::2'])
      expect(isLoopbackHost(h), h).toBe(false);
  });

  it('reads a bearer token, and says what came instead without repeating a credential', () => {
    expect(bearerToken(`Bearer ${ADMIN}`)).toEqual({ token: ADMIN });
    expect(bearerToken(`bearer   ${ADMIN}  `)).toEqual({ token: ADMIN });
    expect(bearerToken(undefined)).toEqual({ missing: 'none' });
    expect(bearerToken('')).toEqual({ missing: 'none' });
    expect(bearerToken('Bearer')).toEqual({ missing: 'an empty bearer token' });
    expect(bearerToken('Bearer   ')).toEqual({ missing: 'an empty bearer token' });
    const basic = bearerToken(`Basic ${Buffer.from(`user:${ADMIN}`).toString('base64')}`);
    expect(basic).toEqual({ missing: 'an Authorization header with the Basic scheme instead of Bearer' });
    expect(bearerToken(':::')).toEqual({ missing: 'a malformed Authorization header' });
  });
});

describe('a loopback server with admin (from a file), inference and metrics tokens', () => {
  let server: RunningServer;
  let base: string;
  let logFile: string;

  beforeAll(async () => {
    const tokenFile = join(dirs.work(), 'admin.token');
    // As `openssl rand -hex 32 > file` writes it: with a newline, which is not part of the token.
    await writeFile(tokenFile, `${ADMIN}\n`, { mode: 0o600 });
    logFile = join(dirs.work(), 'logs', 'server.log');
    server = await startServer(
      {
        ...testServerConfig(dirs.work(), dirs.repo()),
        tenants: [{ name: 'tiny', model: 'tiny', rate: 10 }],
        auth: { adminTokenFile: tokenFile, inferenceToken: INFERENCE, metricsToken: METRICS },
        // The real logger (with its redaction) at its most talkative level, into a file read at the end.
        logLevel: 'trace',
        logDestination: logFile,
      },
      { progress: false },
    );
    base = server.urls.base;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('reports what each kind of route requires', () => {
    expect(server.access).toEqual({ admin: 'token', inference: 'token', metrics: 'token', tls: false });
  });

  it('refuses a management change without the admin token: 401 with a Bearer challenge and a stable code', async () => {
    const spec = { name: 'second', model: 'tiny' };
    const none = await call(base, 'POST', '/api/v1/tenants', { body: spec });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="swapless"');
    expect(none.headers.get('content-type')).toBe('application/json');
    expect(none.body).toEqual({
      error:
        'Expected an Authorization: Bearer <token> header with the admin token for POST /api/v1/tenants but received none',
      code: 'SWAPLESS_UNAUTHORIZED',
    });

    const wrong = await call(base, 'POST', '/api/v1/tenants', { body: spec, token: WRONG });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="swapless", error="invalid_token"');
    expect(wrong.body.code).toBe('SWAPLESS_UNAUTHORIZED');
    expect(wrong.body.error).toMatch(/received a token that does not match$/);
    expect(wrong.text).not.toContain(WRONG);

    // The other tokens do not open management changes; nor does the admin token under another scheme, nor a
    // prefix or an extension of it.
    for (const authorization of [
      `Bearer ${INFERENCE}`,
      `Bearer ${METRICS}`,
      `Basic ${ADMIN}`,
      `Bearer ${ADMIN.slice(0, -1)}`,
      `Bearer ${ADMIN}x`,
      `Bearer ${ADMIN} ${ADMIN}`,
    ]) {
      const r = await call(base, 'POST', '/api/v1/tenants', { body: spec, authorization });
      expect(r.status, authorization).toBe(401);
      expect(r.text).not.toContain(ADMIN);
    }
    const basic = await call(base, 'POST', '/api/v1/tenants', {
      body: spec,
      authorization: `Basic ${ADMIN}`,
    });
    expect(basic.headers.get('www-authenticate')).toBe('Bearer realm="swapless"');
    expect(basic.body.error).toMatch(
      /received an Authorization header with the Basic scheme instead of Bearer$/,
    );

    // Nothing was registered by any of them.
    expect(server.service.tenantNames()).toEqual(['tiny']);
  });

  it('judges the matched route, so no spelling of a URL slips past the guard', async () => {
    const { hostname, port } = new URL(base);
    const raw = (method: string, path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          { host: hostname, port, path, method, headers: { 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ name: 'sneaky', model: 'tiny' }));
      });
    for (const path of [
      '/api/v1/tenants/',
      '/api/v1/tenants?x=1',
      '/api/v1/tenants#x',
      '/api//v1/tenants',
      '/api/v1/./tenants',
      '/api/v1/x/../tenants',
      '/API/v1/tenants',
      '/api/v1/%74enants',
      '/api/v1/tenants%2f',
    ]) {
      const status = await raw('POST', path);
      // 405: a path that exists without POST (`/api/v1/tenants/` is `/api/v1/tenants/:name`), refused before any handler.
      expect([401, 404, 405], `${path} → ${status}`).toContain(status);
    }
    expect([401, 404]).toContain(await raw('POST', '/v2/models/tiny/infer/'));
    expect(await raw('POST', '/v2/models/%74iny/infer')).toBe(401);
    expect(server.service.tenantNames()).toEqual(['tiny']);
  });

  it('registers and removes with the admin token; a removal without it changes nothing', async () => {
    const created = await call(base, 'POST', '/api/v1/tenants', {
      body: { name: 'second', model: 'tiny' },
      token: ADMIN,
    });
    expect(created.status, created.text).toBe(201);
    expect(server.service.tenantNames()).toEqual(['tiny', 'second']);

    const refused = await call(base, 'DELETE', '/api/v1/tenants/second');
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatch(/for DELETE \/api\/v1\/tenants\/:name but received none$/);
    expect(server.service.tenantNames()).toEqual(['tiny', 'second']);

    const removed = await call(base, 'DELETE', '/api/v1/tenants/second', { token: ADMIN });
    expect(removed.status).toBe(204);
    expect(server.service.tenantNames()).toEqual(['tiny']);
    // A bad body with the right token is judged on its merits (400), after the token.
    const bad = await call(base, 'POST', '/api/v1/tenants', {
      body: { name: '../x', model: 'tiny' },
      token: ADMIN,
    });
    expect(bad.status).toBe(400);
  });

  it('keeps management reads, the dashboard, the index and the health probes open', async () => {
    for (const path of [
      '/api/v1/tenants',
      '/api/v1/tenants/tiny',
      '/api/v1/controller',
      '/api/v1/controller/history?limit=2',
      '/api/v1/models',
      '/dashboard',
      '/dashboard/data',
      '/',
      '/v2/health/live',
      '/v2/health/ready',
    ]) {
      expect((await call(base, 'GET', path)).status, path).toBe(200);
    }
    // An unknown route is still a plain 404, not a challenge.
    expect((await call(base, 'GET', '/nowhere')).status).toBe(404);
  });

  it('guards inference and metadata with the inference token (or the admin token)', async () => {
    for (const [method, path] of [
      ['POST', '/v2/models/tiny/infer'],
      ['POST', '/v2/models/tiny/versions/1/infer'],
      ['GET', '/v2/models/tiny'],
      ['GET', '/v2/models/tiny/ready'],
      ['GET', '/v2'],
      // An unknown model gets the challenge too, so model names cannot be probed without a token.
      ['GET', '/v2/models/secret-model'],
    ] as const) {
      const body = method === 'POST' ? infer : undefined;
      const none = await call(base, method, path, { body });
      expect(none.status, path).toBe(401);
      expect(none.body.code).toBe('SWAPLESS_UNAUTHORIZED');
      expect(none.body.error).toContain('the inference (or admin) token');
      const wrong = await call(base, method, path, { body, token: METRICS });
      expect(wrong.status, path).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="swapless", error="invalid_token"');
    }
    const ok = await call(base, 'POST', '/v2/models/tiny/infer', { body: infer, token: INFERENCE });
    expect(ok.status, ok.text).toBe(200);
    expect((ok.body.outputs as { data: number[] }[])[0]!.data).toEqual(reference(tiny, Int8Array.from(X))[0]);
    expect((await call(base, 'GET', '/v2/models/tiny', { token: INFERENCE })).status).toBe(200);
    expect((await call(base, 'POST', '/v2/models/tiny/infer', { body: infer, token: ADMIN })).status).toBe(
      200,
    );
    expect((await call(base, 'GET', '/v2/models/secret-model', { token: INFERENCE })).status).toBe(404);
  });

  it('guards /metrics with the metrics token (or the admin token)', async () => {
    const none = await call(base, 'GET', '/metrics');
    expect(none.status).toBe(401);
    expect(none.body.error).toContain('the metrics (or admin) token for GET /metrics');
    expect((await call(base, 'GET', '/metrics', { token: INFERENCE })).status).toBe(401);
    const ok = await call(base, 'GET', '/metrics', { token: METRICS });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('swapless_requests_total');
    expect((await call(base, 'GET', '/metrics', { token: ADMIN })).status).toBe(200);
  });

  it('serves KServeClient with the token, and refuses it without', async () => {
    const client = new KServeClient(base, { token: INFERENCE });
    const anonymous = new KServeClient(base);
    try {
      const r = await client.infer('tiny', [
        { name: 'x', datatype: 'INT8', shape: [1, 8], data: infer.inputs[0]!.data },
      ]);
      expect(Array.from(r.outputs[0]!.data as Int8Array)).toEqual(reference(tiny, Int8Array.from(X))[0]);
      const e = await anonymous.metadata('tiny').catch((err: unknown) => err);
      expect(e).toBeInstanceOf(KServeClientError);
      expect((e as KServeClientError).status).toBe(401);
      expect(await anonymous.ready()).toBe(true);
    } finally {
      client.close();
      anonymous.close();
    }
  });

  it('never writes a token to the log, even at trace level', async () => {
    // One more refused and one more admitted request right before reading, then everything buffered is written.
    await call(base, 'POST', '/api/v1/tenants', { body: { name: 'x', model: 'tiny' }, token: WRONG });
    await call(base, 'GET', '/v2/models/tiny', { token: INFERENCE });
    flushLogger(server.logger);
    const log = await readFile(logFile, 'utf8');
    // The log did record the refusals (so this is not an empty file passing by default)…
    const refusals = log.split('\n').filter((l) => l.includes('"msg":"unauthorized request"'));
    expect(refusals.length).toBeGreaterThanOrEqual(10);
    expect(refusals.at(-1)).toContain('"reason":"invalid-token"');
    // …and holds no token: neither configured ones nor the wrong one a client sent.
    for (const secret of [ADMIN, INFERENCE, METRICS, WRONG]) expect(log).not.toContain(secret);
  });
});

describe('beyond loopback, through serve() and the environment', () => {
  async function serveOn(
    env: Record<string, string>,
  ): Promise<{ server: RunningServer; out: string; done: Promise<number> }> {
    const out: string[] = [];
    const configPath = join(dirs.work(), 'serve-auth.json');
    // No config tenants: these servers start in a moment; 0.0.0.0 is reached through 127.0.0.1.
    await writeFile(
      configPath,
      JSON.stringify({ ...testServerConfig(dirs.work(), dirs.repo()), logLevel: 'silent' }),
    );
    let server: RunningServer | undefined;
    const done = serve(['--config', configPath, '--host', '0.0.0.0', '--port', '0'], {
      io: { out: (t) => out.push(t), err: () => undefined },
      env,
      signals: false,
      started: (s) => {
        server = s;
      },
    });
    while (server === undefined) await new Promise((r) => setTimeout(r, 20));
    return { server, out: out.join('\n'), done };
  }

  it('disables management changes without an admin token (403 saying how to enable them) and says so in the banner', async () => {
    const { server, out, done } = await serveOn({});
    try {
      expect(server.access.admin).toBe('disabled');
      expect(out).toContain('Access: management changes disabled;');
      expect(out).toContain(
        '! management changes (register, remove tenants) are disabled: the server listens beyond loopback without an admin token; set auth.adminToken or SWAPLESS_ADMIN_TOKEN',
      );
      expect(out).toContain('No tenants yet (and registering is disabled, see above).');
      const base = server.urls.base;
      for (const authorization of [undefined, `Bearer ${ADMIN}`]) {
        const r = await call(base, 'POST', '/api/v1/tenants', {
          body: { name: 'x', model: 'tiny' },
          ...(authorization ? { authorization } : {}),
        });
        expect(r.status).toBe(403);
        expect(r.headers.get('www-authenticate')).toBeNull();
        expect(r.body.code).toBe('SWAPLESS_FORBIDDEN');
        expect(r.body.error).toMatch(
          /^Expected an admin token to be configured for management changes such as POST \/api\/v1\/tenants, but the server listens beyond loopback \(0\.0\.0\.0\) without one, so changes are disabled: set auth\.adminToken in the server config or SWAPLESS_ADMIN_TOKEN \(at least 16 characters/,
        );
      }
      expect((await call(base, 'DELETE', '/api/v1/tenants/x')).status).toBe(403);
      expect(server.service.tenantNames()).toEqual([]);
      // Reads and inference routes (no inference token configured) stay open.
      expect((await call(base, 'GET', '/api/v1/models')).status).toBe(200);
      expect((await call(base, 'GET', '/v2')).status).toBe(200);
    } finally {
      await server.close();
      expect(await done).toBe(0);
    }
  });

  it('enables them with SWAPLESS_ADMIN_TOKEN: 401 without it, 201 with it', async () => {
    const { server, out, done } = await serveOn({ SWAPLESS_ADMIN_TOKEN: ADMIN });
    try {
      expect(server.access).toMatchObject({ admin: 'token', inference: 'open' });
      expect(out).toContain('Access: management changes need the admin token; inference and metadata open;');
      expect(out).toContain(
        `curl -s -X POST -H "Authorization: Bearer $SWAPLESS_ADMIN_TOKEN" -H 'Content-Type: application/json'`,
      );
      expect(out).not.toContain(ADMIN);
      const base = server.urls.base;
      const spec = { name: 'cam', model: 'tiny' };
      expect((await call(base, 'POST', '/api/v1/tenants', { body: spec })).status).toBe(401);
      const ok = await call(base, 'POST', '/api/v1/tenants', { body: spec, token: ADMIN });
      expect(ok.status, ok.text).toBe(201);
      expect((await call(base, 'POST', '/v2/models/cam/infer', { body: infer })).status).toBe(200);
    } finally {
      await server.close();
      expect(await done).toBe(0);
    }
  });
});

describe('installAuth on any fastify app', () => {
  it('guards routes registered before and after it, in any scope, HEAD included; with nothing to guard, nothing', async () => {
    const app = Fastify();
    app.post('/api/v1/early', async () => ({ changed: true }));
    installAuth(app, {
      tokens: { admin: ADMIN, inference: null, metrics: null },
      host: '127.0.0.1',
      tls: false,
    });
    await app.register(
      async (scope) => {
        scope.delete('/tenants/:name', async () => ({ removed: true }));
        scope.get('/tenants', async () => ({ tenants: [] }));
      },
      { prefix: '/api/v1' },
    );
    app.get('/metrics', async () => 'open');
    for (const [method, url] of [
      ['POST', '/api/v1/early'],
      ['DELETE', '/api/v1/tenants/x'],
    ] as const) {
      expect((await app.inject({ method, url })).statusCode, url).toBe(401);
      const ok = await app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN}` } });
      expect(ok.statusCode, url).toBe(200);
    }
    expect((await app.inject({ method: 'GET', url: '/api/v1/tenants' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'HEAD', url: '/metrics' })).statusCode).toBe(200);
    await app.close();

    const guarded = Fastify();
    installAuth(guarded, {
      tokens: { admin: null, inference: INFERENCE, metrics: null },
      host: '::1',
      tls: false,
    });
    guarded.get('/v2/models/:name', async () => ({ meta: true }));
    const head = await guarded.inject({ method: 'HEAD', url: '/v2/models/x' });
    expect(head.statusCode).toBe(401);
    expect(head.headers['www-authenticate']).toBe('Bearer realm="swapless"');
    await guarded.close();

    // Loopback, no tokens: everything passes, as before authentication existed.
    const open = Fastify();
    const summary = installAuth(open, {
      tokens: { admin: null, inference: null, metrics: null },
      host: 'localhost',
      tls: false,
    });
    expect(summary).toEqual({ admin: 'open', inference: 'open', metrics: 'open', tls: false });
    open.post('/api/v1/tenants', async () => ({ registered: true }));
    expect((await open.inject({ method: 'POST', url: '/api/v1/tenants' })).statusCode).toBe(200);
    await open.close();
  });
});
