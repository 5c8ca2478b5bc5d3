// Deadlines and overload end to end over real HTTP: the real server, the emulated Edge TPU stretched in time (one
// head of the test network takes ~0.3 s instead of ~0.3 ms) so that queues form with a handful of requests.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidConfigError } from '@swapless/core';
import { buildTestNet } from '@swapless/int8-builder';
import { SeededRandom, writeModel } from '@swapless/tflite';
import { type Logger, pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { type RunningServer, startServer } from './server.js';
import { testServerConfig, useTestCache } from './test-support.js';

const testnet = writeModel(buildTestNet(3));
let restoreCache = (): void => {};
const DEADLINE_MS = 1000;

let work: string;
let server: RunningServer;
let base: string;
const logs: Record<string, unknown>[] = [];

function memoryLogger(into: Record<string, unknown>[]): Logger {
  return pino({ level: 'debug' }, { write: (line: string) => void into.push(JSON.parse(line)) });
}

function body(parameters?: Record<string, unknown>): string {
  const x = new Int8Array(16 * 16 * 3);
  new SeededRandom(1).fillUniformInt8(x);
  return JSON.stringify({
    inputs: [{ name: 'input', datatype: 'INT8', shape: [1, 16, 16, 3], data: Array.from(x) }],
    ...(parameters !== undefined ? { parameters } : {}),
  });
}

function infer(parameters?: Record<string, unknown>): Promise<Response> {
  return fetch(`${base}/v2/models/net/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body(parameters),
  });
}

const calls = () => server.service.runtime.stats().tpu.calls;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'swapless-server-deadline-'));
  restoreCache = useTestCache(work);
  const repo = join(work, 'models');
  await mkdir(join(repo, 'testnet'), { recursive: true });
  await writeFile(join(repo, 'testnet', 'model.tflite'), testnet);
  server = await startServer(
    {
      ...testServerConfig(work, repo),
      // The whole model on the Edge TPU: one FIFO device is the queue.
      policy: 'default',
      deadlineMs: DEADLINE_MS,
      tenants: [{ name: 'net', model: 'testnet', rate: 1 }],
    },
    { logger: memoryLogger(logs), progress: false, service: { emulator: { timeScale: 1000 } } },
  );
  base = server.urls.base;
});

afterAll(async () => {
  await server?.close();
  restoreCache();
});

describe('deadlines end to end', () => {
  it('drops a queued request whose deadline passed with 504, and never runs it', async () => {
    // Nothing measured yet: admission goes by the latency model's ~0.3 ms, so both requests are admitted.
    const before = calls();
    const first = infer();
    while (server.service.tenant('net')!.inFlight === 0) await sleep(1);
    const second = await infer({ timeout: 100_000 });
    expect(second.status).toBe(504);
    expect(second.headers.get('retry-after')).toBeNull();
    const error = ((await second.json()) as { error: string }).error;
    expect(error).toMatch(/^Expected a request of tenant net to finish within its deadline \(\d+\.\d ms\)/);
    expect(error).toMatch(/dropped before its Edge TPU stage$/);
    expect((await first).status).toBe(200);
    // The device ran the first request only.
    expect(calls() - before).toBe(1);
    expect(server.service.tenant('net')).toMatchObject({ completed: 1, expired: 1, failed: 0 });
  });

  it('refuses at admission (503 with Retry-After) a request whose timeout is shorter than the queue', async () => {
    // Now measured: a head takes ~300 ms, more than this request's 100 ms.
    const before = calls();
    const res = await infer({ timeout: 100_000 });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /^Expected tenant net to finish a new request within its deadline .* retry later$/,
    );
    expect(calls()).toBe(before);
    // Without the timeout the server's own deadline (1 s) is enough.
    expect((await infer()).status).toBe(200);
  });

  it("never lets a request's timeout lengthen the server's deadline", async () => {
    // Five at once, each willing to wait a minute: the queue for the later ones exceeds the server's 1 s.
    const statuses = (await Promise.all(Array.from({ length: 5 }, () => infer({ timeout: 60_000_000 })))).map(
      (r) => r.status,
    );
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
  });

  it('answers 400 for a timeout that is not a whole number of µs', async () => {
    for (const timeout of [-5, 2.5, '10']) {
      const res = await infer({ timeout });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/parameters\/timeout/);
    }
  });

  it('logs refusals as one warn line per class per second, with the count and no stack', async () => {
    await sleep(1100); // the previous tests' refusals are summarised by now
    logs.length = 0;
    const n = 20;
    const statuses = await Promise.all(Array.from({ length: n }, () => infer({ timeout: 1 })));
    expect(statuses.map((r) => r.status)).toEqual(Array(n).fill(503));
    await sleep(1100);
    const refused = logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('refused'));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ level: 40, status: 503, code: 'SWAPLESS_OVERLOADED', count: n });
    expect(refused[0]!.msg).toMatch(
      new RegExp(`^refused ${n} request\\(s\\) with 503 SWAPLESS_OVERLOADED in the last \\d+ ms$`),
    );
    expect(refused[0]).not.toHaveProperty('err');
    expect(JSON.stringify(logs)).not.toMatch(/"stack"/);
    expect(logs.filter((l) => (l.level as number) >= 40)).toHaveLength(1);
  });
});

describe('deadlineMs in the config', () => {
  it('defaults to 5000 ms and takes SWAPLESS_DEADLINE_MS from the environment', async () => {
    expect((await loadConfig(undefined, {})).config.deadlineMs).toBe(5000);
    expect((await loadConfig(undefined, { SWAPLESS_DEADLINE_MS: '250' })).config.deadlineMs).toBe(250);
    await expect(loadConfig(undefined, { SWAPLESS_DEADLINE_MS: '0' })).rejects.toBeInstanceOf(
      InvalidConfigError,
    );
    await expect(loadConfig(undefined, { SWAPLESS_DEADLINE_MS: '1.5' })).rejects.toThrow(
      /SWAPLESS_DEADLINE_MS/,
    );
  });
});
