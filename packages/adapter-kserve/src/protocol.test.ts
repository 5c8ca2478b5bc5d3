// The protocol around inference over real HTTP on real TFLite interpreters: encoded request bodies, 405 with Allow,
// the exact error content type, and Triton's configuration, statistics and repository index endpoints.
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InterpreterBackend, tinyBytes, tinyInt8Bytes, twoInTwoOutBytes } from './backend.test-util.js';
import { KServeClient, type RawResponse } from './client.js';
import { HEADER_LENGTH_HEADER } from './codec.js';
import { frameworkErrorHandler, kserveRoutes } from './routes.js';

const X = [0.5, -1.25, 2, 3.5];
const goodBody = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: X }] });
const json = (res: RawResponse) => JSON.parse(res.body.toString('utf8'));

let backend: InterpreterBackend;
let app: FastifyInstance;
let client: KServeClient;

/** An error answer in the one shape, with exactly `application/json`. */
function expectError(res: RawResponse, status: number, message?: RegExp): string {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe('application/json');
  const body = json(res);
  expect(Object.keys(body)).toEqual(['error']);
  if (message) expect(body.error).toMatch(message);
  return body.error as string;
}

async function stillServing(): Promise<void> {
  const res = await client.request('POST', '/v2/models/tiny/infer', goodBody);
  expect(res.status).toBe(200);
  expect(json(res).outputs[0].data).toEqual(X.map((v) => 2 * v));
}

beforeAll(async () => {
  backend = new InterpreterBackend({ tiny: tinyBytes(), tiny8: tinyInt8Bytes(), two: twoInTwoOutBytes() });
  app = Fastify({ logger: false, frameworkErrors: frameworkErrorHandler });
  await kserveRoutes(app, { backend, bodyLimit: 64 * 1024 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  client = new KServeClient(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`);
});

afterAll(async () => {
  client.close();
  await app.close();
  backend.close();
});

describe('Content-Encoding of request bodies', () => {
  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('infers from a %s JSON body', async (coding, encode) => {
    const res = await client.request('POST', '/v2/models/tiny/infer', encode(goodBody), {
      'content-encoding': coding,
      'content-type': 'application/json',
    });
    expect(res.status).toBe(200);
    expect(json(res).outputs[0].data).toEqual(X.map((v) => 2 * v));
  });

  it('infers from a gzip body with binary tensor data (header length of the decoded body)', async () => {
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }],
      }),
    );
    const raw = Buffer.concat([header, Buffer.from(new Float32Array(X).buffer)]);
    const res = await client.request('POST', '/v2/models/tiny/infer', gzipSync(raw), {
      'content-encoding': 'gzip',
      'content-type': 'application/octet-stream',
      [HEADER_LENGTH_HEADER]: String(header.length),
    });
    expect(res.status).toBe(200);
    expect(json(res).outputs[0].data).toEqual(X.map((v) => 2 * v));
  });

  it('answers a gzip bomb with 413 once the decoded body passes the limit, and keeps serving', async () => {
    // 4 gzip members of 16 MiB of zeros each: 64 MiB once decoded from 64 KB on the wire, which is under the
    // 64 KiB limit, so only the decoded size can refuse it.
    const member = gzipSync(Buffer.alloc(16 << 20));
    const bomb = Buffer.concat(Array.from({ length: 4 }, () => member));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const res = await client.request('POST', '/v2/models/tiny/infer', bomb, { 'content-encoding': 'gzip' });
    expectError(
      res,
      413,
      /^Expected a request body of at most 65536 bytes once decoded \(Content-Encoding: gzip\) but it decodes to more$/,
    );
    await stillServing();
  });

  it('answers an unknown or stacked coding with 415 and Accept-Encoding', async () => {
    for (const coding of ['compress', 'zstd', 'gzip, br']) {
      const res = await client.request('POST', '/v2/models/tiny/infer', goodBody, {
        'content-encoding': coding,
      });
      expectError(res, 415, /^Expected a Content-Encoding of gzip, deflate, br or identity \(one coding\)/);
      expect(res.headers['accept-encoding']).toBe('gzip, deflate, br');
    }
    await stillServing();
  });

  it('answers a body that does not decode with a 400 that echoes none of its bytes', async () => {
    const garbage = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x80, 0x81, 0x82, 0x00, 0x01, 0x02]);
    const res = await client.request('POST', '/v2/models/tiny/infer', garbage, {
      'content-encoding': 'deflate',
    });
    const message = expectError(
      res,
      400,
      /^Expected a request body encoded as its Content-Encoding says \(deflate\)/,
    );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is that there are none.
    expect(message).not.toMatch(/[\u0000-\u001f\u007f-\uffff]/);
    // A gzip body sent without the header is plain bytes to the parser: a 400 that does not echo them either.
    const plain = expectError(await client.request('POST', '/v2/models/tiny/infer', gzipSync(goodBody)), 400);
    expect(plain).not.toContain('\u001f\u008b');
    await stillServing();
  });
});

describe('405 with Allow', () => {
  it.each([
    ['DELETE', '/v2/models/tiny', 'GET, HEAD'],
    ['POST', '/v2/health/live', 'GET, HEAD'],
    ['PUT', '/v2/models/tiny/infer', 'POST'],
    ['GET', '/v2/models/tiny/versions/1/infer', 'POST'],
    ['GET', '/v2/repository/index', 'POST'],
    ['POST', '/v2/models/tiny/config?x=1', 'GET, HEAD'],
  ])('%s %s → 405, Allow: %s', async (method, path, allow) => {
    const res = await client.request(method, path, method === 'GET' ? undefined : '{}');
    expect(res.headers.allow).toBe(allow);
    expectError(res, 405, new RegExp(`^Expected .* for ".*" but received ${method}$`));
  });

  it('still answers a path no method has with 404', async () => {
    const res = await client.request('DELETE', '/v2/no/such/path');
    expect(res.headers.allow).toBeUndefined();
    expectError(res, 404, /KServe v2 route/);
  });
});

describe("Triton's model configuration", () => {
  it('describes a model in model_config.proto terms', async () => {
    const res = await client.request('GET', '/v2/models/two/config');
    expect(res.status).toBe(200);
    expect(json(res)).toEqual({
      name: 'two',
      platform: 'tflite',
      backend: 'tflite',
      version_policy: { latest: { num_versions: 1 } },
      max_batch_size: 0,
      input: [
        { name: 'a', data_type: 'TYPE_FP32', format: 'FORMAT_NONE', dims: [1, 4] },
        { name: 'b', data_type: 'TYPE_INT8', format: 'FORMAT_NONE', dims: [2, 2] },
      ],
      output: [
        { name: 'sum', data_type: 'TYPE_FP32', dims: [1, 4] },
        { name: 'prod', data_type: 'TYPE_INT8', dims: [1, 4] },
      ],
    });
    expect(json(await client.request('GET', '/v2/models/two/versions/1/config'))).toEqual(json(res));
    expectError(await client.request('GET', '/v2/models/two/versions/7/config'), 404, /version/);
    expectError(await client.request('GET', '/v2/models/nope/config'), 404, /served models/);
  });
});

describe("Triton's statistics", () => {
  it('counts successes and failures with their measured durations', async () => {
    const before = json(await client.request('GET', '/v2/models/tiny8/stats')).model_stats[0];
    expect(before).toMatchObject({ name: 'tiny8', version: '1', inference_count: 0, execution_count: 0 });
    const body = JSON.stringify({
      inputs: [{ name: 'x', shape: [1, 4], datatype: 'INT8', data: [1, 2, 3, 4] }],
    });
    const t0 = Date.now();
    for (let i = 0; i < 5; i++)
      expect((await client.request('POST', '/v2/models/tiny8/infer', body)).status).toBe(200);
    const bad = JSON.stringify({
      inputs: [{ name: 'x', shape: [1, 4], datatype: 'INT8', data: [1, 2, 3, 999] }],
    });
    expect((await client.request('POST', '/v2/models/tiny8/infer', bad)).status).toBe(400);
    backend.failNext = new Error('backend broke');
    expect((await client.request('POST', '/v2/models/tiny8/infer', body)).status).toBe(500);

    const res = await client.request('GET', '/v2/models/tiny8/stats');
    expect(res.status).toBe(200);
    const { model_stats } = json(res);
    expect(model_stats).toHaveLength(1);
    const s = model_stats[0];
    expect(Object.keys(s)).toEqual([
      'name',
      'version',
      'last_inference',
      'inference_count',
      'execution_count',
      'inference_stats',
      'batch_stats',
    ]);
    expect(s).toMatchObject({
      name: 'tiny8',
      version: '1',
      inference_count: 5,
      execution_count: 5,
      batch_stats: [],
    });
    expect(s.last_inference).toBeGreaterThanOrEqual(t0);
    expect(s.last_inference).toBeLessThanOrEqual(Date.now());
    const st = s.inference_stats;
    expect(Object.keys(st)).toEqual([
      'success',
      'fail',
      'queue',
      'compute_input',
      'compute_infer',
      'compute_output',
      'cache_hit',
    ]);
    expect(st.success.count).toBe(5);
    expect(st.fail.count).toBe(2);
    expect(st.cache_hit).toEqual({ count: 0, ns: 0 });
    for (const k of ['success', 'fail', 'compute_input', 'compute_infer', 'compute_output']) {
      expect(Number.isInteger(st[k].ns), k).toBe(true);
      expect(st[k].ns, k).toBeGreaterThan(0);
    }
    // The parts are measured inside the whole: decode + run + encode never exceed the requests' total.
    expect(st.compute_input.ns + st.compute_infer.ns + st.compute_output.ns).toBeLessThanOrEqual(
      st.success.ns,
    );
    // This backend reports no queueing: its whole call counts as running the model.
    expect(st.queue).toEqual({ count: 5, ns: 0 });
  });

  it('reports every served model at /v2/models/stats, and by version', async () => {
    const all = json(await client.request('GET', '/v2/models/stats')).model_stats;
    expect(all.map((m: { name: string }) => m.name)).toEqual(['tiny', 'tiny8', 'two']);
    const one = json(await client.request('GET', '/v2/models/two/versions/1/stats')).model_stats;
    expect(one).toEqual([all[2]]);
    expectError(await client.request('GET', '/v2/models/nope/stats'), 404);
  });
});

describe('a model named stats', () => {
  it('is reached by version and by its own routes; /v2/models/stats stays the statistics route', async () => {
    const own = new InterpreterBackend({ stats: tinyBytes() });
    const other = Fastify({ logger: false });
    await kserveRoutes(other, { backend: own });
    await other.listen({ port: 0, host: '127.0.0.1' });
    const c = new KServeClient(`http://127.0.0.1:${(other.server.address() as { port: number }).port}`);
    try {
      expect((await c.metadata('stats', '1')).name).toBe('stats');
      expect((await c.request('POST', '/v2/models/stats/infer', goodBody)).status).toBe(200);
      const all = json(await c.request('GET', '/v2/models/stats')).model_stats;
      expect(all).toMatchObject([{ name: 'stats', inference_count: 1 }]);
      expect(json(await c.request('GET', '/v2/models/stats/stats')).model_stats).toEqual(all);
    } finally {
      c.close();
      await other.close();
      own.close();
    }
  });
});

describe("Triton's repository index", () => {
  it('lists the served models with their state; ready: true keeps the ready ones', async () => {
    backend.notReady.add('two');
    try {
      const res = await client.request('POST', '/v2/repository/index', '{}');
      expect(res.status).toBe(200);
      expect(json(res)).toEqual([
        { name: 'tiny', version: '1', state: 'READY', reason: '' },
        { name: 'tiny8', version: '1', state: 'READY', reason: '' },
        { name: 'two', version: '1', state: 'UNAVAILABLE', reason: 'not ready' },
      ]);
      const empty = await client.request('POST', '/v2/repository/index');
      expect(json(empty)).toEqual(json(res));
      const ready = await client.request('POST', '/v2/repository/index', '{"ready":true}');
      expect(json(ready).map((e: { name: string }) => e.name)).toEqual(['tiny', 'tiny8']);
    } finally {
      backend.notReady.delete('two');
    }
  });

  it('refuses a body that is not { ready?: boolean }', async () => {
    for (const body of ['[]', '{"ready":"yes"}', '{"other":1}', '{nope']) {
      expectError(
        await client.request('POST', '/v2/repository/index', body),
        400,
        /repository index request/,
      );
    }
  });
});
