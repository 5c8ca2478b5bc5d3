// Deadlines through the KServe routes: the routes' default, a request's `parameters.timeout` (µs), refusal before
// the body is read, and what reaches the log. Real HTTP over a real TFLite backend.
import { Writable } from 'node:stream';
import { DeadlineExceededError, OverloadedError } from '@swapless/core';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InterpreterBackend, tinyBytes } from './backend.test-util.js';
import { KServeClient, type RawResponse } from './client.js';
import { kserveRoutes } from './routes.js';

interface Server {
  app: FastifyInstance;
  client: KServeClient;
  /** Log lines the app wrote (JSON objects). */
  log: Record<string, unknown>[];
}

async function start(backend: InterpreterBackend, deadlineMs?: number): Promise<Server> {
  const log: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) log.push(JSON.parse(line));
      done();
    },
  });
  const app = Fastify({
    logger: { level: 'debug', stream: sink },
    logController: new LogController({ disableRequestLogging: true }),
  });
  await kserveRoutes(app, { backend, ...(deadlineMs !== undefined ? { deadlineMs } : {}) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { app, client: new KServeClient(`http://127.0.0.1:${port}`), log };
}

const X = [0.5, -1.25, 2, 3.5];
const body = (parameters?: Record<string, unknown>) =>
  JSON.stringify({
    inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: X }],
    ...(parameters ? { parameters } : {}),
  });
const infer = (s: Server, text: string): Promise<RawResponse> =>
  s.client.request('POST', '/v2/models/tiny/infer', text, { 'content-type': 'application/json' });
const errorOf = (res: RawResponse): string => JSON.parse(res.body.toString('utf8')).error;

describe('deadlines through the KServe routes', () => {
  let backend: InterpreterBackend;
  let s: Server;
  let none: Server;

  beforeAll(async () => {
    backend = new InterpreterBackend({ tiny: tinyBytes() });
    s = await start(backend, 1000);
    none = await start(backend);
  });
  afterAll(async () => {
    for (const x of [s, none]) {
      x.client.close();
      await x.app.close();
    }
    backend.close();
  });

  /** ms from now to the deadline the backend received with the last request. */
  const budget = (): number => backend.lastOptions!.deadlineMs! - performance.now();

  it('gives the backend the default deadline, and a request timeout (µs) shortens it', async () => {
    expect((await infer(s, body())).status).toBe(200);
    expect(budget()).toBeLessThanOrEqual(1000);
    expect(budget()).toBeGreaterThan(500);
    expect((await infer(s, body({ timeout: 200_000 }))).status).toBe(200);
    expect(budget()).toBeLessThanOrEqual(200);
    expect(budget()).toBeGreaterThan(0);
    // Before the body was read, admission was asked about the default deadline of the same arrival.
    const asked = backend.admissions.at(-1)!;
    expect(asked.name).toBe('tiny');
    expect(asked.deadlineMs - backend.lastOptions!.deadlineMs!).toBeCloseTo(800, 0);
  });

  it('never lets a request timeout lengthen the deadline; 0 means the default', async () => {
    expect((await infer(s, body({ timeout: 3_600_000_000 }))).status).toBe(200);
    expect(budget()).toBeLessThanOrEqual(1000);
    expect((await infer(s, body({ timeout: 0 }))).status).toBe(200);
    expect(budget()).toBeLessThanOrEqual(1000);
    expect(budget()).toBeGreaterThan(500);
  });

  it('without a default, only a request timeout sets a deadline', async () => {
    expect((await infer(none, body())).status).toBe(200);
    expect(backend.lastOptions).toBeUndefined();
    expect((await infer(none, body({ timeout: 50_000 }))).status).toBe(200);
    expect(budget()).toBeLessThanOrEqual(50);
  });

  it('answers 400 for a timeout that is not a whole number of µs ≥ 0', async () => {
    const served = backend.served;
    for (const timeout of [-1, 1.5, '100', true, null, [1]]) {
      const res = await infer(s, body({ timeout }));
      expect(res.status).toBe(400);
      expect(errorOf(res)).toMatch(/^Expected a KServe v2 inference request .*\/parameters\/timeout/);
    }
    expect(backend.served).toBe(served);
  });

  it('refuses before reading the body when admission says no: 503 with its Retry-After', async () => {
    const served = backend.served;
    backend.refuseAdmission = new OverloadedError('Expected tenant tiny to finish in time but it cannot', {
      details: { reason: 'deadline', retryAfterS: 2.5 },
    });
    try {
      // A body that would be a 400 if it were parsed: the refusal comes first.
      const res = await infer(s, '{ not json');
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('3');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(errorOf(res)).toMatch(/cannot/);
      expect(backend.served).toBe(served);
      // A large body left unread does not break the keep-alive connection for the next request.
      const big = body().replace('"parameters"', '"pad":"' + 'x'.repeat(200_000) + '","parameters"');
      expect((await infer(s, big)).status).toBe(503);
    } finally {
      backend.refuseAdmission = undefined;
    }
    expect((await infer(s, body())).status).toBe(200);
  });

  it('logs no line per expected refusal (503, 504) and one error line per failure', async () => {
    s.log.length = 0;
    backend.failNext = new DeadlineExceededError('Dropped before its Edge TPU stage');
    expect((await infer(s, body())).status).toBe(504);
    backend.failNext = new OverloadedError('Queue full');
    expect((await infer(s, body())).status).toBe(503);
    backend.refuseAdmission = new OverloadedError('Out of reach');
    expect((await infer(s, body())).status).toBe(503);
    backend.refuseAdmission = undefined;
    expect(s.log.filter((l) => (l.level as number) >= 40)).toEqual([]);
    backend.failNext = new Error('boom');
    expect((await infer(s, body())).status).toBe(500);
    expect(s.log.filter((l) => (l.level as number) >= 40).map((l) => l.msg)).toEqual([
      'kserve request failed',
    ]);
  });

  it('refuses a bad deadlineMs option', async () => {
    const app = Fastify();
    for (const deadlineMs of [0, -5, Number.POSITIVE_INFINITY, '100']) {
      await expect(kserveRoutes(app, { backend, deadlineMs: deadlineMs as number })).rejects.toMatchObject({
        code: 'SWAPLESS_INVALID_ARGUMENT',
      });
    }
    await app.close();
  });
});
