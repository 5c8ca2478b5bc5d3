import { createServer } from 'node:net';
import { ErrorCodes, isSwapLessError } from '@swapless/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InterpreterBackend, tinyBytes, tinyInt8Bytes } from './backend.test-util.js';
import { KServeClient, KServeClientError } from './client.js';
import { randomInputs, runClosedLoop, summarizeLatencies } from './load.js';
import { kserveRoutes } from './routes.js';

describe('KServeClient and the closed loop against a real server', () => {
  let app: FastifyInstance;
  let backend: InterpreterBackend;
  let client: KServeClient;
  let url: string;

  beforeAll(async () => {
    backend = new InterpreterBackend({ tiny: tinyBytes(), tiny8: tinyInt8Bytes() });
    app = Fastify();
    await kserveRoutes(app, { backend });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    client = new KServeClient(`${url}/`);
  });
  afterAll(async () => {
    client.close();
    await app.close();
    backend.close();
  });

  it('reads metadata and runs inferences with typed arrays or plain values', async () => {
    expect(client.url).toBe(url);
    const meta = await client.metadata('tiny8');
    expect(meta.inputs).toEqual([{ name: 'x', datatype: 'INT8', shape: [1, 4] }]);
    const r = await client.infer('tiny8', [
      { name: 'x', datatype: 'INT8', shape: [1, 4], data: [1, 2, -3, 4] },
    ]);
    expect(r.model_name).toBe('tiny8');
    expect(r.outputs[0]!.data).toEqual(Int8Array.from([1, 2, -3, 4]));
    const b = await client.infer(
      'tiny',
      [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: Float32Array.from([1, 2, 3, 4]) }],
      {
        binary: true,
        version: '1',
      },
    );
    expect(b.outputs[0]!.data).toEqual(Float32Array.from([2, 4, 6, 8]));
  });

  it('rejects with KServeClientError: the server’s status and message, or status 0 with no server', async () => {
    const e = await client.metadata('nope').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(KServeClientError);
    expect((e as KServeClientError).status).toBe(404);
    expect((e as Error).message).toMatch(/^The server answered 404: Expected one of the served models/);
    const bad = await client
      .infer('tiny', [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }])
      .catch((err: unknown) => err);
    expect((bad as KServeClientError).status).toBe(400);
    expect(isSwapLessError(bad, ErrorCodes.IO)).toBe(true);

    // A port nobody listens on: take one, then free it.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const offline = new KServeClient(`http://127.0.0.1:${port}`);
    const down = await offline.ready().catch((err: unknown) => err);
    expect((down as KServeClientError).status).toBe(0);
    expect((down as Error).message).toMatch(/request failed: .*ECONNREFUSED/);
    offline.close();
    expect(() => new KServeClient('ftp://x')).toThrow(KServeClientError);
    expect(() => new KServeClient('not a url')).toThrow(/Expected an http:\/\/ or https:\/\/ URL/);
  });

  it('sends its token as a bearer token with every request, and refuses one that cannot be a header', async () => {
    const seen: (string | undefined)[] = [];
    const echo = Fastify();
    echo.addHook('onRequest', async (request) => void seen.push(request.headers.authorization));
    await kserveRoutes(echo, { backend });
    const echoUrl = await echo.listen({ port: 0, host: '127.0.0.1' });
    const token = 'a3f1c0ffee-0123456789';
    const withToken = new KServeClient(echoUrl, { token });
    try {
      expect(await withToken.ready()).toBe(true);
      await withToken.metadata('tiny');
      await withToken.infer('tiny', [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }]);
      expect(await client.ready()).toBe(true); // the shared client (no token) sends none
    } finally {
      withToken.close();
      await echo.close();
    }
    expect(seen).toEqual([`Bearer ${token}`, `Bearer ${token}`, `Bearer ${token}`]);
    for (const bad of ['', 'two words', 'line\r\nX-Injected: 1']) {
      const e = (() => {
        try {
          return new KServeClient(echoUrl, { token: bad });
        } catch (err) {
          return err;
        }
      })();
      expect(isSwapLessError(e, ErrorCodes.INVALID_ARGUMENT)).toBe(true);
      if (bad !== '') expect((e as Error).message).not.toContain(bad);
    }
  });

  it('runs a closed loop, JSON and binary, and counts failures by status', async () => {
    const inputs = randomInputs(await client.metadata('tiny'), () => 0.75);
    expect(inputs[0]!.data).toEqual(Float32Array.from([0.5, 0.5, 0.5, 0.5]));
    const before = backend.served;
    for (const binary of [false, true]) {
      const r = await runClosedLoop(client, 'tiny', inputs, {
        concurrency: 4,
        durationMs: 200,
        warmupMs: 50,
        binary,
      });
      expect(r.binary).toBe(binary);
      expect(r.ok).toBeGreaterThan(0);
      expect(r.errors).toEqual({});
      expect(r.requests).toBe(r.ok);
      expect(r.latency.count).toBe(r.ok);
      expect(r.latency.p50Ms!).toBeLessThanOrEqual(r.latency.p99Ms!);
      expect(r.requestsPerS).toBeCloseTo((r.ok * 1000) / r.durationMs, 6);
    }
    expect(backend.served).toBeGreaterThan(before);
    const bounded = await runClosedLoop(client, 'tiny', inputs, {
      concurrency: 1,
      durationMs: 60_000,
      maxRequests: 5,
    });
    expect(bounded.requests).toBe(5);
    const missing = await runClosedLoop(client, 'nope', inputs, {
      concurrency: 2,
      durationMs: 100,
      maxRequests: 10,
    });
    expect(missing.ok).toBe(0);
    expect(Object.keys(missing.errors)).toEqual(['404']);
    expect(missing.latency.meanMs).toBeNull();
    await expect(runClosedLoop(client, 'tiny', inputs, { concurrency: 0, durationMs: 1 })).rejects.toThrow(
      /concurrency/,
    );
  });
});

describe('summarizeLatencies and randomInputs', () => {
  it('summarises with type-7 percentiles', () => {
    const s = summarizeLatencies([5, 1, 4, 2, 3]);
    expect(s).toEqual({ count: 5, meanMs: 3, p50Ms: 3, p95Ms: 4.8, p99Ms: 4.96, maxMs: 5 });
    expect(summarizeLatencies([]).p99Ms).toBeNull();
  });

  it('makes inputs of every numeric datatype, deterministic for a deterministic source', () => {
    let state = 1;
    const seeded = () => {
      state = (state * 16807) % 2147483647;
      return state / 2147483647;
    };
    const meta = {
      inputs: (['BOOL', 'UINT8', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64'] as const).map(
        (d) => ({
          name: d.toLowerCase(),
          datatype: d,
          shape: [2, -1],
        }),
      ),
    };
    const a = randomInputs(meta, seeded);
    state = 1;
    const b = randomInputs(meta, seeded);
    expect(a).toEqual(b);
    expect(a.map((t) => t.shape)).toEqual(meta.inputs.map(() => [2, 1]));
    expect(a.map((t) => t.data.constructor.name)).toEqual([
      'Uint8Array',
      'Uint8Array',
      'Int8Array',
      'Int16Array',
      'Int32Array',
      'BigInt64Array',
      'Uint16Array',
      'Float32Array',
      'Float64Array',
    ]);
    expect(() => randomInputs({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1] }] })).toThrow(
      /numeric datatype/,
    );
  });
});
