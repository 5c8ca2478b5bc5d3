import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import {
  ConflictError,
  DeadlineExceededError,
  DelegateUnavailableError,
  ErrorCodes,
  InvalidArgumentError,
  isSwapLessError,
  NotFoundError,
  OverloadedError,
  ShuttingDownError,
  TfLiteRuntimeError,
} from '@swapless/core';
import { createInterpreter } from '@swapless/edgetpu';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InterpreterBackend, tinyBytes, tinyInt8Bytes, twoInTwoOutBytes } from './backend.test-util.js';
import { KServeClient, type RawResponse } from './client.js';
import { DEFAULT_BODY_LIMIT, frameworkErrorHandler, kserveRoutes } from './routes.js';
import type { InferenceBackend } from './types.js';

interface Server {
  app: FastifyInstance;
  url: string;
  client: KServeClient;
}

async function start(backend: InterpreterBackend, bodyLimit?: number): Promise<Server> {
  const app = Fastify({ logger: false, frameworkErrors: frameworkErrorHandler });
  await kserveRoutes(app, { backend, serverVersion: '9.9.9', ...(bodyLimit ? { bodyLimit } : {}) });
  // A route outside /v2 with the default JSON parser: the KServe scope must not change it.
  app.post('/echo', async (request) => request.body);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return { app, url, client: new KServeClient(url) };
}

const json = (res: RawResponse) => JSON.parse(res.body.toString('utf8'));
const post = (s: Server, path: string, body: unknown, headers: Record<string, string> = {}) =>
  s.client.request(
    'POST',
    path,
    typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    { 'content-type': 'application/json', ...headers },
  );

/** Sends raw bytes on a fresh socket (paths http.request would refuse or normalise) and returns the status. */
function rawStatus(url: string, head: string): Promise<{ status: number; body: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(head));
    let data = '';
    socket.on('data', (c) => {
      data += c.toString('latin1');
    });
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
    socket.on('error', reject);
  });
}

const X = [0.5, -1.25, 2, 3.5];
const goodBody = { id: 'req-1', inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: X }] };

describe('kserveRoutes over real TFLite interpreters', () => {
  let backend: InterpreterBackend;
  let s: Server;

  beforeAll(async () => {
    backend = new InterpreterBackend({ tiny: tinyBytes(), tiny8: tinyInt8Bytes(), two: twoInTwoOutBytes() });
    s = await start(backend);
  });
  afterAll(async () => {
    s.client.close();
    await s.app.close();
    backend.close();
  });

  /** The server still answers a good request correctly (run after every bad one). */
  async function stillServing(): Promise<void> {
    const res = await post(s, '/v2/models/tiny/infer', goodBody);
    expect(res.status).toBe(200);
    expect(json(res).outputs[0].data).toEqual(X.map((v) => 2 * v));
  }

  async function expectError(res: RawResponse, status: number, message?: RegExp): Promise<string> {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/json');
    const body = json(res);
    expect(Object.keys(body)).toEqual(['error']);
    expect(typeof body.error).toBe('string');
    if (message) expect(body.error).toMatch(message);
    await stillServing();
    return body.error;
  }

  describe('health and metadata', () => {
    it('answers live and ready with 200, and 503 with Retry-After when not', async () => {
      expect(json(await s.client.request('GET', '/v2/health/live'))).toEqual({ live: true });
      expect(json(await s.client.request('GET', '/v2/health/ready'))).toEqual({ ready: true });
      expect(await s.client.live()).toBe(true);
      expect(await s.client.ready()).toBe(true);
      backend.ready = false;
      backend.live = false;
      try {
        for (const path of ['/v2/health/ready', '/v2/health/live']) {
          const res = await s.client.request('GET', path);
          expect(res.status).toBe(503);
          expect(res.headers['retry-after']).toBe('1');
          expect(json(res).error).toMatch(/not (ready|live)/);
        }
        expect(await s.client.ready()).toBe(false);
      } finally {
        backend.ready = true;
        backend.live = true;
      }
    });

    it('describes the server', async () => {
      expect(await s.client.serverMetadata()).toEqual({
        name: 'swapless',
        version: '9.9.9',
        extensions: ['binary_tensor_data', 'model_configuration', 'statistics'],
      });
    });

    it('describes a model, by name and by version', async () => {
      const meta = await s.client.metadata('two');
      expect(meta).toEqual({
        name: 'two',
        versions: ['1'],
        platform: 'tflite',
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [1, 4] },
          { name: 'b', datatype: 'INT8', shape: [2, 2] },
        ],
        outputs: [
          { name: 'sum', datatype: 'FP32', shape: [1, 4] },
          { name: 'prod', datatype: 'INT8', shape: [1, 4] },
        ],
      });
      expect(await s.client.metadata('two', '1')).toEqual(meta);
      await expectError(await s.client.request('GET', '/v2/models/two/versions/2'), 404, /version/);
      await expectError(
        await s.client.request('GET', '/v2/models/nope'),
        404,
        /served models \(tiny, tiny8, two\)/,
      );
    });

    it('reports model readiness: 200, 503 when not ready, 404 when unknown', async () => {
      expect(json(await s.client.request('GET', '/v2/models/tiny/ready'))).toEqual({
        name: 'tiny',
        ready: true,
      });
      expect((await s.client.request('GET', '/v2/models/tiny/versions/1/ready')).status).toBe(200);
      backend.notReady.add('tiny8');
      try {
        const res = await s.client.request('GET', '/v2/models/tiny8/ready');
        expect(res.headers['retry-after']).toBe('1');
        await expectError(res, 503, /not ready/);
        await expectError(await post(s, '/v2/models/tiny8/infer', goodBody), 503, /not ready/);
        expect(await s.client.modelReady('tiny8')).toBe(false);
      } finally {
        backend.notReady.delete('tiny8');
      }
      await expectError(await s.client.request('GET', '/v2/models/nope/ready'), 404);
    });

    it('answers an unknown route under /v2 with the error shape', async () => {
      await expectError(await s.client.request('GET', '/v2/nothing/here'), 404, /KServe v2 route/);
      // A known path with another method is a 405 naming the methods it has.
      const wrong = await s.client.request('GET', '/v2/models/tiny/infer');
      expect(wrong.headers.allow).toBe('POST');
      await expectError(wrong, 405, /^Expected POST for "\/v2\/models\/tiny\/infer" but received GET$/);
    });
  });

  describe('inference, JSON', () => {
    it('runs the model: flat data, id echoed, parameters passed through', async () => {
      const res = await post(s, '/v2/models/tiny/infer', goodBody);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(json(res)).toEqual({
        model_name: 'tiny',
        model_version: '1',
        id: 'req-1',
        parameters: { backend: 'test-interpreter' },
        outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 4], data: X.map((v) => 2 * v) }],
      });
    });

    it('tells the backend how long the server held each successful request, not a failed one', async () => {
      const before = backend.servedCalls.length;
      const t = performance.now();
      const res = await post(s, '/v2/models/tiny/infer', goodBody);
      const clientMs = performance.now() - t;
      expect(res.status).toBe(200);
      expect(backend.servedCalls.length).toBe(before + 1);
      const call = backend.servedCalls.at(-1)!;
      expect(call.name).toBe('tiny');
      expect(call.parameters).toEqual({ backend: 'test-interpreter' });
      // Server time is part of what the client waited for.
      expect(call.serverMs).toBeGreaterThan(0);
      expect(call.serverMs).toBeLessThanOrEqual(clientMs);
      backend.failNext = new Error('boom');
      expect((await post(s, '/v2/models/tiny/infer', goodBody)).status).toBe(500);
      expect(backend.servedCalls.length).toBe(before + 1);
    });

    it('accepts nested data, the versions route, no id, and any or no content type', async () => {
      const nested = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [X] }] };
      const res = await post(s, '/v2/models/tiny/versions/1/infer', nested);
      expect(res.status).toBe(200);
      const body = json(res);
      expect(body.id).toBeUndefined();
      expect(body.outputs[0].data).toEqual(X.map((v) => 2 * v));
      // curl -d sends application/x-www-form-urlencoded; a bare client may send no content type at all.
      const form = await post(s, '/v2/models/tiny/infer', nested, {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(form.status).toBe(200);
      const bare = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${s.url}/v2/models/tiny/infer`, { method: 'POST' }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(JSON.stringify(nested));
      });
      expect(bare).toBe(200);
    });

    it('matches inputs by name, selects outputs, and equals the interpreter run directly', async () => {
      const a = [0.25, -0.5, 0.75, 1];
      const b = [10, -20, 30, -40];
      const ref = createInterpreter(twoInTwoOutBytes());
      ref.setInput(0, Float32Array.from(a));
      ref.setInput(1, Int8Array.from(b));
      ref.invoke();
      const sum = Array.from(ref.getOutput(0) as Float32Array);
      const prod = Array.from(ref.getOutput(1) as Int8Array);
      ref.dispose();

      const inputs = [
        { name: 'b', shape: [2, 2], datatype: 'INT8', data: [b.slice(0, 2), b.slice(2)] },
        { name: 'a', shape: [1, 4], datatype: 'FP32', data: a },
      ];
      const all = json(await post(s, '/v2/models/two/infer', { inputs }));
      expect(all.outputs.map((o: { name: string }) => o.name)).toEqual(['sum', 'prod']);
      expect(all.outputs[0].data).toEqual(sum);
      expect(all.outputs[1].data).toEqual(prod);

      const one = json(await post(s, '/v2/models/two/infer', { inputs, outputs: [{ name: 'prod' }] }));
      expect(one.outputs).toEqual([{ name: 'prod', datatype: 'INT8', shape: [1, 4], data: prod }]);
    });

    it('checks integer ranges of integer datatypes', async () => {
      const body = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'INT8', data: [1, 2, 300, 4] }] };
      await expectError(
        await post(s, '/v2/models/tiny8/infer', body),
        400,
        /^Expected an integer from -128 to 127 \(INT8\) for input "x" at data\[2\] but received 300$/,
      );
      const ok = await post(s, '/v2/models/tiny8/infer', {
        inputs: [{ ...body.inputs[0], data: [1, -2, 3, -4] }],
      });
      expect(json(ok).outputs[0].data).toEqual([1, -2, 3, -4]); // x + x at scale 1/128 in, 1/64 out
    });
  });

  describe('inference, binary tensor data', () => {
    it('decodes binary inputs and encodes binary outputs (binary_data_output)', async () => {
      const x = Float32Array.from(X);
      const header = JSON.stringify({
        id: 'bin',
        parameters: { binary_data_output: true },
        inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }],
      });
      const body = Buffer.concat([Buffer.from(header), Buffer.from(x.buffer)]);
      const res = await s.client.request('POST', '/v2/models/tiny/infer', body, {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(Buffer.byteLength(header)),
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      const n = Number(res.headers['inference-header-content-length']);
      const head = JSON.parse(res.body.toString('utf8', 0, n));
      expect(head).toEqual({
        model_name: 'tiny',
        model_version: '1',
        id: 'bin',
        parameters: { backend: 'test-interpreter' },
        outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } }],
      });
      expect(res.body.length).toBe(n + 16);
      const y = new Float32Array(
        res.body.buffer.slice(res.body.byteOffset + n, res.body.byteOffset + n + 16),
      );
      expect(Array.from(y)).toEqual(X.map((v) => 2 * v));
    });

    it('mixes binary and JSON per input and per output', async () => {
      const b = Int8Array.from([1, 2, 3, 4]);
      const header = JSON.stringify({
        inputs: [
          { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] },
          { name: 'b', shape: [2, 2], datatype: 'INT8', parameters: { binary_data_size: 4 } },
        ],
        outputs: [{ name: 'sum' }, { name: 'prod', parameters: { binary_data: true } }],
      });
      const res = await s.client.request(
        'POST',
        '/v2/models/two/infer',
        Buffer.concat([Buffer.from(header), Buffer.from(b.buffer)]),
        {
          'inference-header-content-length': String(header.length),
        },
      );
      expect(res.status).toBe(200);
      const n = Number(res.headers['inference-header-content-length']);
      const head = JSON.parse(res.body.toString('utf8', 0, n));
      expect(head.outputs[0].data).toHaveLength(4);
      expect(head.outputs[1]).toEqual({
        name: 'prod',
        datatype: 'INT8',
        shape: [1, 4],
        parameters: { binary_data_size: 4 },
      });
      expect(res.body.length).toBe(n + 4);
    });

    it('gives the same answer through the client in JSON and binary modes', async () => {
      const inputs = [
        {
          name: 'a',
          datatype: 'FP32' as const,
          shape: [1, 4],
          data: Float32Array.from([0.5, 0.25, -0.5, 1]),
        },
        { name: 'b', datatype: 'INT8' as const, shape: [2, 2], data: Int8Array.from([5, -5, 50, -50]) },
      ];
      const viaJson = await s.client.infer('two', inputs, { id: 'j' });
      const viaBinary = await s.client.infer('two', inputs, { binary: true, id: 'b' });
      expect(viaJson.id).toBe('j');
      expect(viaBinary.id).toBe('b');
      expect(viaBinary.outputs.map((o) => o.data)).toEqual(viaJson.outputs.map((o) => o.data));
      expect(viaBinary.outputs[0]!.data).toBeInstanceOf(Float32Array);
      expect(viaBinary.outputs[1]!.data).toBeInstanceOf(Int8Array);
      const only = await s.client.infer('two', inputs, { binary: true, outputs: ['sum'] });
      expect(only.outputs.map((o) => o.name)).toEqual(['sum']);
    });
  });

  describe('bad requests get a clean 4xx and the server keeps serving', () => {
    const tiny = '/v2/models/tiny/infer';
    const input = (over: Record<string, unknown>) => ({
      inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: X, ...over }],
    });

    it('malformed JSON, empty body, non-object body, schema violations', async () => {
      await expectError(
        await post(s, tiny, '{"inputs": [', {}),
        400,
        /^Expected a JSON inference request body but it does not parse/,
      );
      await expectError(await post(s, tiny, ''), 400, /empty body/);
      await expectError(await post(s, tiny, '[1,2]'), 400, /does not match the protocol: \/: must be object/);
      await expectError(
        await post(s, tiny, { inputs: [] }),
        400,
        /\/inputs: must NOT have fewer than 1 items/,
      );
      await expectError(await post(s, tiny, { input: [] }), 400, /must have required property 'inputs'/);
      await expectError(
        await post(s, tiny, input({ datatype: 'FLOAT' })),
        400,
        /datatype: must be equal to one of the allowed values/,
      );
      await expectError(await post(s, tiny, input({ shape: [1, -4] })), 400, /shape\/1: must be >= 0/);
      await expectError(await post(s, tiny, input({ data: 'abc' })), 400, /data: must be array/);
      await expectError(await post(s, tiny, { ...goodBody, id: 7 }), 400, /\/id: must be string/);
    });

    it('wrong datatype, shape, element count, element values', async () => {
      await expectError(
        await post(s, tiny, input({ datatype: 'INT32' })),
        400,
        /^Expected datatype FP32 for input "x" but received INT32$/,
      );
      await expectError(
        await post(s, tiny, input({ shape: [4] })),
        400,
        /^Expected shape \[1,4\] for input "x" but received \[4\]$/,
      );
      await expectError(
        await post(s, tiny, input({ shape: [1, 5] })),
        400,
        /^Expected shape \[1,4\] for input "x" but received \[1,5\]$/,
      );
      await expectError(
        await post(s, tiny, input({ data: [1, 2, 3] })),
        400,
        /^Expected 4 elements \(shape \[1,4\]\) for input "x" but received 3$/,
      );
      await expectError(
        await post(s, tiny, input({ data: [1, 2, 3, 4, 5] })),
        400,
        /^Expected 4 elements \(shape \[1,4\]\) for input "x" but received 5$/,
      );
      await expectError(
        await post(s, tiny, input({ data: [[1, 2, 3]] })),
        400,
        /Expected nested arrays of shape \[1,4\]/,
      );
      await expectError(
        await post(s, tiny, input({ data: [[1, 2], 3] })),
        400,
        /Expected nested arrays of shape \[1,4\]/,
      );
      await expectError(
        await post(s, tiny, input({ data: [1, 2, 'three', 4] })),
        400,
        /^Expected a number \(FP32\) for input "x" at data\[2\] but received "three"$/,
      );
      await expectError(await post(s, tiny, input({ data: [1, null, 3, 4] })), 400, /received null/);
      await expectError(await post(s, tiny, input({ datatype: 'BYTES' })), 400, /^Expected datatype FP32/);
    });

    it('unknown, missing and duplicate inputs; unknown outputs; data and binary size together', async () => {
      await expectError(
        await post(s, tiny, input({ name: 'z' })),
        400,
        /^Expected an input of model "tiny" \("x"\) for inputs\[0\]\.name but received "z"$/,
      );
      await expectError(
        await post(s, '/v2/models/two/infer', {
          inputs: [{ name: 'a', shape: [1, 4], datatype: 'FP32', data: X }],
        }),
        400,
        /^Expected an input named "b" for model "two" but received none/,
      );
      const x = goodBody.inputs[0]!;
      await expectError(await post(s, tiny, { inputs: [x, x] }), 400, /received input "x" twice/);
      await expectError(
        await post(s, tiny, { ...goodBody, outputs: [{ name: 'nope' }] }),
        400,
        /for outputs\[0\]\.name but received "nope"/,
      );
      await expectError(
        await post(s, tiny, input({ parameters: { binary_data_size: 16 } })),
        400,
        /either data or parameters\.binary_data_size/,
      );
      await expectError(
        await post(s, tiny, input({ data: undefined })),
        400,
        /data or parameters\.binary_data_size .* neither/,
      );
    });

    it('binary extension: bad header length, size mismatch, missing header, leftover bytes', async () => {
      const header = (size: number) =>
        JSON.stringify({
          inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: size } }],
        });
      const send = (h: string, bin: number, len: string = String(Buffer.byteLength(h))) =>
        s.client.request('POST', tiny, Buffer.concat([Buffer.from(h), Buffer.alloc(bin)]), {
          'inference-header-content-length': len,
        });
      await expectError(
        await send(header(16), 16, 'abc'),
        400,
        /Inference-Header-Content-Length header but received "abc"/,
      );
      await expectError(await send(header(16), 16, '99999'), 400, /Inference-Header-Content-Length/);
      await expectError(
        await send(header(12), 12),
        400,
        /^Expected binary_data_size 16 \(4 FP32 elements, shape \[1,4\]\) for input "x" but received 12$/,
      );
      await expectError(
        await send(header(16), 8),
        400,
        /Expected 16 bytes of binary tensor data .* but received 8/,
      );
      await expectError(
        await send(header(16), 20),
        400,
        /Expected 16 bytes of binary tensor data after the JSON header \(the sum of binary_data_size\) but received 20/,
      );
      await expectError(
        await post(s, tiny, header(16)),
        400,
        /Inference-Header-Content-Length header for input "x" with binary_data_size but received none/,
      );
      // The JSON header itself cut short.
      await expectError(await send(header(16), 16, '10'), 400, /does not parse/);
    });

    it('unknown model → 404; traversal and malformed names → 400, raw or encoded', async () => {
      await expectError(
        await post(s, '/v2/models/nope/infer', goodBody),
        404,
        /^Expected one of the served models \(tiny, tiny8, two\) but received "nope"$/,
      );
      for (const name of [
        '..',
        '%2e%2e',
        '..%2F..%2Fetc%2Fpasswd',
        '%2E%2E%5C..%5Cwindows',
        '.hidden',
        'a%00b',
        'a b'.replace(' ', '%20'),
      ]) {
        const res = await post(s, `/v2/models/${name}/infer`, goodBody);
        await expectError(res, 400, /Expected a model name matching/);
        await expectError(await s.client.request('GET', `/v2/models/${name}`), 400);
      }
      // Sent raw so nothing normalises the dot segments.
      for (const path of [
        '/v2/models/../infer',
        '/v2/models/../../etc/passwd',
        '/v2/models/%E0%A4%A/infer',
        '/v2/models/%/infer',
      ]) {
        const b = JSON.stringify(goodBody);
        const r = await rawStatus(
          s.url,
          `POST ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${b.length}\r\n\r\n${b}`,
        );
        expect(r.status).toBe(path.endsWith('passwd') ? 404 : 400);
        if (path === '/v2/models/../infer') expect(JSON.parse(r.body).error).toMatch(/model name matching/);
        expect(Object.keys(JSON.parse(r.body))).toEqual(['error']);
        await stillServing();
      }
      // Longer than the router's maxParamLength: 414 from the framework, in the same shape.
      const long = 'a'.repeat(300);
      await expectError(
        await post(s, `/v2/models/${long}/infer`, goodBody),
        414,
        /exceeding the max param length/,
      );
    });

    it('backend errors map by code: 503 with Retry-After, 504, 404, 409, 400, 500', async () => {
      const cases: [unknown, number, RegExp][] = [
        [new OverloadedError('Tenant "tiny" is overloaded (64 in flight)'), 503, /overloaded/],
        [new DeadlineExceededError('Dropped before its Edge TPU stage'), 504, /Dropped before/],
        [new ShuttingDownError('The runtime is closing'), 503, /closing/],
        [new DelegateUnavailableError('The Edge TPU went away'), 503, /went away/],
        [new NotFoundError('No tenant "tiny"', { details: { reason: 'unknown-tenant' } }), 404, /No tenant/],
        [new ConflictError('Tenant "tiny" is being replaced'), 409, /being replaced/],
        // By code alone: a reason that once meant 404 is only detail on an InvalidArgumentError.
        [
          new InvalidArgumentError('No tenant "tiny"', { details: { reason: 'unknown-tenant' } }),
          400,
          /No tenant/,
        ],
        [new InvalidArgumentError('Expected something else'), 400, /something else/],
        [new TfLiteRuntimeError('Invoke failed'), 500, /^Invoke failed$/],
        [new Error('boom'), 500, /^Internal error: boom$/],
      ];
      for (const [error, status, message] of cases) {
        backend.failNext = error;
        const res = await post(s, tiny, goodBody);
        if (status === 503) expect(res.headers['retry-after']).toBe('1');
        else expect(res.headers['retry-after']).toBeUndefined();
        await expectError(res, status, message);
      }
    });

    it('leaves routes outside /v2 with the app’s own parsers', async () => {
      const res = await post(s, '/echo', { a: 1 });
      expect(json(res)).toEqual({ a: 1 });
    });
  });

  describe('plugin form, dynamic dimensions, prototype keys', () => {
    it('registers as a fastify plugin too', async () => {
      const app = Fastify();
      app.register(kserveRoutes, { backend });
      const res = await app.inject({ method: 'GET', url: '/v2/models/tiny' });
      expect(res.statusCode).toBe(200);
      expect(res.json().inputs[0].name).toBe('x');
      await app.close();
    });

    it('accepts any size at a -1 dimension and resolves the output shape from the data', async () => {
      // The same interpreter, described with a variable batch dimension; the interpreter itself only takes 1.
      const dynamic: InferenceBackend = {
        isLive: () => true,
        isReady: () => true,
        modelNames: () => backend.modelNames(),
        isModelReady: (name) => backend.isModelReady(name),
        infer: (name, inputs) => backend.infer(name, inputs),
        modelMetadata: (name) => {
          const m = backend.modelMetadata(name);
          if (m === undefined) return undefined;
          return {
            ...m,
            inputs: m.inputs.map((t) => ({ ...t, shape: [-1, ...t.shape.slice(1)] })),
            outputs: m.outputs.map((t) => ({ ...t, shape: [-1, ...t.shape.slice(1)] })),
          };
        },
      };
      const app = Fastify();
      await kserveRoutes(app, { backend: dynamic });
      const ok = await app.inject({ method: 'POST', url: '/v2/models/tiny/infer', payload: goodBody });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().outputs[0].shape).toEqual([1, 4]);
      const two = { inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP32', data: [...X, ...X] }] };
      const bad = await app.inject({ method: 'POST', url: '/v2/models/tiny/infer', payload: two });
      // Past the adapter's checks, the interpreter refuses 8 elements: a typed InvalidArgumentError → 400.
      expect(bad.statusCode).toBe(400);
      expect(Object.keys(bad.json())).toEqual(['error']);
      const wrong = await app.inject({
        method: 'POST',
        url: '/v2/models/tiny/infer',
        payload: { inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6] }] },
      });
      expect(wrong.json().error).toBe('Expected shape [-1,4] for input "x" but received [2,3]');
      await app.close();
    });

    it('treats a __proto__ key as data, never as a prototype', async () => {
      const body = `{"__proto__":{"polluted":true},"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4],"__proto__":{"x":1}}]}`;
      const res = await post(s, '/v2/models/tiny/infer', body);
      expect(res.status).toBe(200);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      await stillServing();
    });
  });

  describe('body limit', () => {
    it('answers 413 with the KServe error shape above the limit and keeps serving', async () => {
      const small = await start(backend, 1024);
      try {
        const big = JSON.stringify({
          inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: X }],
          pad: 'x'.repeat(2000),
        });
        const res = await post(small, '/v2/models/tiny/infer', big);
        expect(res.status).toBe(413);
        expect(json(res).error).toMatch(
          /^Expected a request body of at most 1024 bytes for POST \/v2\/models\/tiny\/infer but received \d+ bytes$/,
        );
        // Chunked upload (no Content-Length): the limit is enforced while reading.
        const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = httpRequest(
            `${small.url}/v2/models/tiny/infer`,
            { method: 'POST', headers: { 'transfer-encoding': 'chunked' } },
            (r) => {
              let b = '';
              r.on('data', (c) => {
                b += c;
              });
              r.on('end', () => resolve({ status: r.statusCode ?? 0, body: b }));
            },
          );
          req.on('error', reject);
          req.write(big.slice(0, 1000));
          req.end(big.slice(1000));
        });
        expect(chunked.status).toBe(413);
        expect(JSON.parse(chunked.body).error).toMatch(/at most 1024 bytes .* but received more$/);
        const ok = await post(small, '/v2/models/tiny/infer', goodBody);
        expect(ok.status).toBe(200);
      } finally {
        small.client.close();
        await small.app.close();
      }
      expect(DEFAULT_BODY_LIMIT).toBe(64 * 1024 * 1024);
    });
  });

  describe('options', () => {
    it('rejects a backend without the interface and a bad bodyLimit', async () => {
      const app = Fastify();
      const fail = async (options: unknown) => {
        try {
          await kserveRoutes(app, options as never);
        } catch (error) {
          return error;
        }
        return undefined;
      };
      const e1 = await fail({ backend: { isLive: () => true } });
      expect(isSwapLessError(e1, ErrorCodes.INVALID_ARGUMENT)).toBe(true);
      expect((e1 as Error).message).toMatch(/^Expected an InferenceBackend with a isReady\(\) method/);
      const e2 = await fail({ backend, bodyLimit: 0 });
      expect(isSwapLessError(e2, ErrorCodes.INVALID_ARGUMENT)).toBe(true);
      await app.close();
    });
  });
});
