// The HTTP protocol of the real server over real sockets: encoded bodies, 405 with Allow, parser errors read with a
// raw net socket, the exact error content type, Triton's endpoints, the latency buckets, and what clients see of a
// shutdown (idle keep-alive connections closed with a FIN, in-flight requests drained, late requests 503).
import { mkdtemp } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { buildTestNet, tinyModel } from '@swapless/int8-builder';
import { SeededRandom, writeModel } from '@swapless/tflite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerConfigInput } from './config.js';
import { type RunningServer, startServer } from './server.js';
import { reference, testServerConfig, useTestCache, writeTestRepository } from './test-support.js';

const testnet = writeModel(buildTestNet(3));
const tiny = writeModel(tinyModel({ type: 'int8', shape: [1, 8] }));

let work: string;
let repo: string;
let server: RunningServer;
let base: string;

function config(overrides: ServerConfigInput = {}): ServerConfigInput {
  return {
    ...testServerConfig(work, repo),
    bodyLimit: 256 * 1024,
    logLevel: 'silent',
    tenants: [{ name: 'net', model: 'testnet', rate: 40 }],
    ...overrides,
  };
}

function netInput(seed: number): Int8Array {
  const x = new Int8Array(16 * 16 * 3);
  new SeededRandom(seed).fillUniformInt8(x);
  return x;
}

const netBody = (x: Int8Array) =>
  JSON.stringify({
    inputs: [{ name: 'input', datatype: 'INT8', shape: [1, 16, 16, 3], data: Array.from(x) }],
  });

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request through node:http on a fresh connection (the path is sent as written). */
function call(
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
  url = base,
): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** An error answer in the project's shape, with exactly `application/json`; returns its message. */
function expectError(a: Answer, status: number, message?: RegExp): string {
  expect(a.status).toBe(status);
  expect(a.headers['content-type']).toBe('application/json');
  const body = JSON.parse(a.text) as Record<string, unknown>;
  expect(Object.keys(body).filter((k) => k !== 'code')).toEqual(['error']);
  expect(typeof body.error).toBe('string');
  if (message) expect(body.error).toMatch(message);
  return body.error as string;
}

async function stillServes(url = base): Promise<void> {
  const x = netInput(99);
  const a = await call('POST', '/v2/models/net/infer', netBody(x), {}, url);
  expect(a.status).toBe(200);
  expect(JSON.parse(a.text).outputs[0].data).toEqual(reference(testnet, x)[0]);
}

/** Writes `bytes` on a raw socket and reads until the server closes it; resolves with what came back. */
function rawExchange(
  bytes: string | Buffer,
): Promise<{ head: string; headers: Record<string, string>; body: string }> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const [head = '', ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines)
        headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      resolve({ head, headers, body: text.slice(split + 4) });
      socket.destroy();
    });
  });
}

let restoreCache: () => void;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'swapless-protocol-'));
  restoreCache = useTestCache(work);
  repo = await writeTestRepository(work, {
    testnet,
    tiny,
    broken: Buffer.from('TFL3 this is not a flatbuffer at all'),
  });
  server = await startServer(config(), { progress: false });
  base = server.urls.base;
});

afterAll(async () => {
  await server?.close();
  restoreCache();
});

describe('encoded request bodies', () => {
  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('infers from a %s body: the answer equals the unsplit model', async (coding, encode) => {
    const x = netInput(5);
    const a = await call('POST', '/v2/models/net/infer', encode(netBody(x)), {
      'content-encoding': coding,
      'content-type': 'application/json',
    });
    expect(a.status).toBe(200);
    expect(JSON.parse(a.text).outputs[0].data).toEqual(reference(testnet, x)[0]);
  });

  it('answers a gzip bomb with 413 without decoding it all, and keeps serving', async () => {
    // 16 gzip members of 16 MiB of zeros: 256 MiB once decoded, 256 KB on the wire (under the 256 KiB limit).
    const member = gzipSync(Buffer.alloc(16 << 20));
    const bomb = Buffer.concat(Array.from({ length: 16 }, () => member));
    expect(bomb.length).toBeLessThan(256 * 1024);
    const a = await call('POST', '/v2/models/net/infer', bomb, { 'content-encoding': 'gzip' });
    expectError(
      a,
      413,
      /^Expected a request body of at most 262144 bytes once decoded \(Content-Encoding: gzip\)/,
    );
    await stillServes();
  });

  it('answers an unsupported coding with 415 and Accept-Encoding, on both APIs', async () => {
    for (const path of ['/v2/models/net/infer', '/api/v1/tenants']) {
      const a = await call('POST', path, '{}', {
        'content-encoding': 'zstd',
        'content-type': 'application/json',
      });
      expectError(a, 415, /^Expected a Content-Encoding of gzip, deflate, br or identity/);
      expect(a.headers['accept-encoding']).toBe('gzip, deflate, br');
    }
    await stillServes();
  });
});

describe('405 with Allow', () => {
  it.each([
    ['POST', '/metrics', 'GET, HEAD'],
    ['DELETE', '/', 'GET, HEAD'],
    ['GET', '/v2/models/net/infer', 'POST'],
    ['DELETE', '/v2/models/net', 'GET, HEAD'],
    ['PATCH', '/api/v1/tenants', 'GET, HEAD, POST'],
    ['POST', '/dashboard/data', 'GET, HEAD'],
  ])('%s %s → 405, Allow: %s', async (method, path, allow) => {
    const a = await call(method, path, method === 'GET' ? undefined : '{}');
    expect(a.headers.allow).toBe(allow);
    expectError(a, 405, new RegExp(`but received ${method}$`));
  });

  it('still answers 404 for a path no method has', async () => {
    const a = await call('DELETE', '/no/such/thing');
    expect(a.headers.allow).toBeUndefined();
    expectError(a, 404, /^Expected a known route/);
  });
});

describe('HTTP parser errors, read with a raw socket', () => {
  it.each([
    ['a malformed request line', 'GET /v2 HTTP/1.1 extra\r\nHost: x\r\n\r\n'],
    ['a method that is not one', 'G@T /v2 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a header without a colon', 'GET /v2 HTTP/1.1\r\nHost x\r\n\r\n'],
    ['a bad Content-Length', 'POST /v2/models/net/infer HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n'],
  ])('%s → 400 in the error shape', async (_what, bytes) => {
    const a = await rawExchange(bytes);
    expect(a.head).toBe('HTTP/1.1 400 Bad Request');
    expect(a.headers['content-type']).toBe('application/json');
    expect(a.headers.connection).toBe('close');
    expect(Number(a.headers['content-length'])).toBe(Buffer.byteLength(a.body));
    const body = JSON.parse(a.body) as { error: string; code: string };
    expect(body.error).toMatch(/^Expected an HTTP\/1\.1 request but it does not parse \(HPE_[A-Z_]+\)/);
    expect(body.code).toMatch(/^HPE_/);
    await stillServes();
  });

  it('headers over the size limit → 431 in the error shape', async () => {
    const a = await rawExchange(`GET /v2 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(a.head).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(a.headers['content-type']).toBe('application/json');
    expect(JSON.parse(a.body)).toEqual({
      error: 'Expected request headers of at most 16384 bytes in total but received more',
      code: 'HPE_HEADER_OVERFLOW',
    });
    await stillServes();
  });
});

describe('the error content type is exactly application/json', () => {
  it('on every kind of error the server answers', async () => {
    expectError(await call('POST', '/v2/models/net/infer', '{nope'), 400);
    expectError(await call('GET', '/v2/models/ghost'), 404);
    expectError(await call('GET', '/api/v1/tenants/ghost'), 404);
    expectError(await call('GET', '/nowhere'), 404);
    expectError(await call('GET', '/dashboard/data?since=-1'), 400);
    expectError(await call('POST', '/api/v1/tenants', '{"name":"x"}'), 400);
    expectError(await call('POST', '/v2/models/net/infer', Buffer.alloc(300 * 1024, 32)), 413);
    expectError(await call('GET', '/v2/models/net/versions/9/config'), 404);
  });
});

describe("Triton's endpoints on the real server", () => {
  it('GET /v2/models/net/config: the model configuration', async () => {
    const a = await call('GET', '/v2/models/net/config');
    expect(a.status).toBe(200);
    const meta = JSON.parse((await call('GET', '/v2/models/net')).text) as { outputs: { name: string }[] };
    expect(JSON.parse(a.text)).toEqual({
      name: 'net',
      platform: 'tflite',
      backend: 'tflite',
      version_policy: { latest: { num_versions: 1 } },
      max_batch_size: 0,
      input: [{ name: 'input', data_type: 'TYPE_INT8', format: 'FORMAT_NONE', dims: [1, 16, 16, 3] }],
      output: [{ name: meta.outputs[0]!.name, data_type: 'TYPE_INT8', dims: [1, 10] }],
    });
  });

  it('GET /v2/models/net/stats: counts and times measured from the runtime', async () => {
    const read = async () => JSON.parse((await call('GET', '/v2/models/net/stats')).text).model_stats[0];
    const before = await read();
    for (let i = 0; i < 4; i++)
      expect((await call('POST', '/v2/models/net/infer', netBody(netInput(i)))).status).toBe(200);
    expect((await call('POST', '/v2/models/net/infer', '{"inputs": 3}')).status).toBe(400);
    const after = await read();
    expect(after.name).toBe('net');
    expect(after.version).toBe('1');
    expect(after.inference_count - before.inference_count).toBe(4);
    expect(after.execution_count - before.execution_count).toBe(4);
    const d = (k: string, f: 'count' | 'ns') => after.inference_stats[k][f] - before.inference_stats[k][f];
    expect(d('success', 'count')).toBe(4);
    expect(d('fail', 'count')).toBe(1);
    for (const k of ['queue', 'compute_input', 'compute_infer', 'compute_output'])
      expect(d(k, 'count')).toBe(4);
    // The emulated Edge TPU stage and the CPU stage take real time; every part lies within the whole.
    expect(d('compute_infer', 'ns')).toBeGreaterThan(0);
    expect(d('compute_input', 'ns')).toBeGreaterThan(0);
    expect(
      d('queue', 'ns') + d('compute_input', 'ns') + d('compute_infer', 'ns') + d('compute_output', 'ns'),
    ).toBeLessThanOrEqual(d('success', 'ns'));
    expect(after.last_inference).toBeGreaterThan(Date.now() - 60_000);
    const all = JSON.parse((await call('GET', '/v2/models/stats')).text).model_stats;
    expect(all.map((m: { name: string }) => m.name)).toEqual(['net']);
  });

  it('POST /v2/repository/index: tenants and repository entries with their state', async () => {
    const a = await call('POST', '/v2/repository/index', '{}');
    expect(a.status).toBe(200);
    expect(JSON.parse(a.text)).toEqual([
      { name: 'net', version: '1', state: 'READY', reason: '' },
      { name: 'testnet', state: 'UNAVAILABLE', reason: 'served as net' },
      {
        name: 'tiny',
        state: 'UNAVAILABLE',
        reason: 'not served: register a tenant for it (POST /api/v1/tenants)',
      },
      {
        name: 'broken',
        state: 'UNAVAILABLE',
        reason: expect.stringMatching(/^unusable \(SWAPLESS_INVALID_MODEL\): /),
      },
    ]);
    const ready = await call('POST', '/v2/repository/index', gzipSync('{"ready": true}'), {
      'content-encoding': 'gzip',
    });
    expect(JSON.parse(ready.text)).toEqual([{ name: 'net', version: '1', state: 'READY', reason: '' }]);
    expectError(await call('POST', '/v2/repository/index', '{"ready": 1}'), 400, /repository index request/);
  });
});

describe('latency histograms', () => {
  it('have buckets up to 120 s on /metrics', async () => {
    await stillServes();
    const text = (await call('GET', '/metrics')).text;
    for (const le of ['10', '15', '30', '60', '120', '+Inf']) {
      expect(text).toMatch(
        new RegExp(
          `\\nswapless_request_duration_seconds_bucket\\{tenant="net",timing="\\w+",le="${le.replace('+', '\\+')}"\\} \\d+\\n`,
        ),
      );
    }
  });
});

describe('shutdown as clients see it', () => {
  /** A raw connection to `url` that records what it receives and how it ends. */
  async function rawConnection(url: string) {
    const { port } = new URL(url);
    const socket: Socket = connect(Number(port), '127.0.0.1');
    const events: string[] = [];
    let text = '';
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
    });
    const ended = new Promise<number>((resolve) =>
      socket.on('end', () => {
        events.push('end');
        resolve(performance.now());
      }),
    );
    socket.on('error', (e: NodeJS.ErrnoException) => events.push(`error ${e.code}`));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, events, ended, closed, text: () => text };
  }

  /** Splits one raw HTTP/1.1 answer into its head and parsed JSON body. */
  function parseAnswer(raw: string): { head: string; body: unknown } {
    const split = raw.indexOf('\r\n\r\n');
    return { head: raw.slice(0, split + 2), body: JSON.parse(raw.slice(split + 4)) };
  }

  it('closes idle keep-alive connections with a FIN at once, drains in-flight requests, refuses late ones', async () => {
    // A slowed emulator (100×) and the whole model on the Edge TPU: one request stays in flight for a while.
    const slow = await startServer(config({ policy: 'default' }), {
      progress: false,
      service: { emulator: { timeScale: 100 } },
    });
    // 1. A keep-alive connection that has had its answer and now sits idle.
    const idle = await rawConnection(slow.urls.base);
    idle.socket.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    while (!idle.text().includes('{"live":true}')) await new Promise((r) => setTimeout(r, 5));
    // 2. node's own keep-alive client: one request, then its socket idles in the agent's pool.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const viaAgent = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const { port } = new URL(slow.urls.base);
        const req = httpRequest({ host: '127.0.0.1', port, path, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await viaAgent('/v2/health/live')).toBe(200);
    // 3. An inference in flight.
    const busy = await rawConnection(slow.urls.base);
    const x = netInput(7);
    const body = netBody(x);
    busy.socket.write(
      `POST /v2/models/net/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    // 4. A request whose head is still arriving when the shutdown begins.
    const late = await rawConnection(slow.urls.base);
    late.socket.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n');
    while ((slow.service.tenants()[0]?.inFlight ?? 0) === 0) await new Promise((r) => setTimeout(r, 5));

    const closing = slow.close();
    const closeStarted = performance.now();
    late.socket.write('\r\n');

    // The idle connection: a FIN (the client reads end of stream) while the inference still runs; never a reset.
    const idleEndedAt = await idle.ended;
    await idle.closed;
    expect(idle.events).toEqual(['end']);
    expect(idleEndedAt).toBeGreaterThanOrEqual(closeStarted);
    expect(busy.text()).toBe('');

    // The in-flight inference drains with the right answer, sent with `Connection: close`, then a FIN.
    await busy.closed;
    expect(busy.events).toEqual(['end']);
    const answer = parseAnswer(busy.text());
    expect(answer.head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer.head).toMatch(/\r\nConnection: close\r\n/i);
    expect((answer.body as { outputs: { data: number[] }[] }).outputs[0]!.data).toEqual(
      reference(testnet, x)[0],
    );

    // The late request: the shutdown 503 in the error shape, then a FIN.
    await late.closed;
    expect(late.events).toEqual(['end']);
    const refused = parseAnswer(late.text());
    expect(refused.head).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(refused.head).toMatch(/\r\ncontent-type: application\/json\r\n/i);
    expect(refused.head).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(refused.head).toMatch(/\r\nconnection: close\r\n/i);
    expect(refused.body).toEqual({
      error: 'Expected a server that is running but it is shutting down; retry on another instance or later',
      code: 'SWAPLESS_SHUTTING_DOWN',
    });
    await closing;

    // node's agent saw its pooled connection end: its next request opens a new one (refused: the server is gone)
    // instead of writing into a dead socket (EPIPE / ECONNRESET).
    const next = await viaAgent('/v2/health/live').then(
      () => 'answered',
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(next).toBe('ECONNREFUSED');
    agent.destroy();
  });
});
