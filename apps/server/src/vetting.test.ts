// The server vets every new or changed model before it loads it: over real HTTP on loopback, each hostile fixture
// (each killed a TFLite process) placed in the repository and registered is refused with a typed 400 (the verifier
// refuses all five as INVALID_MODEL; a model no verifier can fault is rejected by the vetting process's signal), and
// the server keeps answering inference for the tenant it already serves. Vetting never holds start-up up.

import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterpreter, Vetter } from '@swapless/edgetpu';
import { buildTestNet } from '@swapless/int8-builder';
import { SeededRandom, writeModel } from '@swapless/tflite';
import { divisionByZeroModel } from '@swapless/tflite/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fixtureModels } from '../../../tools/test-fixtures.mjs';
import { parseConfig } from './config.js';
import { type RunningServer, serviceOptionsOf, startServer } from './server.js';
import { useTestCache } from './test-support.js';

/** Paths of the hostile fixtures (fixtures/models/hostile). */
const HOSTILE = fixtureModels('hostile').map((f) => f.path);
const testnet = writeModel(buildTestNet(3));
let restoreCache = (): void => {};

let work: string;
let repo: string;
let server: RunningServer;
let base: string;

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies are read field by field.
type Json = any;

async function post(path: string, body: unknown): Promise<{ status: number; body: Json }> {
  const r = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

async function get(path: string): Promise<Json> {
  return (await fetch(`${base}${path}`)).json();
}

/** One inference on `net` over HTTP, checked against the unsplit model on a plain interpreter. */
async function stillServes(seed: number): Promise<void> {
  const x = new Int8Array(16 * 16 * 3);
  new SeededRandom(seed).fillUniformInt8(x);
  const r = await post('/v2/models/net/infer', {
    inputs: [{ name: 'input', datatype: 'INT8', shape: [1, 16, 16, 3], data: Array.from(x) }],
  });
  expect(r.status).toBe(200);
  const it = createInterpreter(testnet, { threads: 1 });
  try {
    it.setInput(0, x);
    it.invoke();
    expect(r.body.outputs[0].data).toEqual(Array.from(it.getOutput(0) as Int8Array));
  } finally {
    it.dispose();
  }
}

async function place(name: string, file: string): Promise<void> {
  await mkdir(join(repo, name), { recursive: true });
  await copyFile(file, join(repo, name, 'model.tflite'));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'swapless-server-vetting-'));
  restoreCache = useTestCache(work);
  repo = join(work, 'models');
  await mkdir(join(repo, 'testnet'), { recursive: true });
  await writeFile(join(repo, 'testnet', 'model.tflite'), testnet);
  // In the repository from the start; the config asks for a tenant of one of them.
  await place('early', HOSTILE[1]!);
  server = await startServer(
    {
      host: '127.0.0.1',
      port: 0,
      repository: repo,
      stateDir: join(work, 'state'),
      profiling: { repetitions: 2, maxCuts: 3 },
      tickMs: 250,
      logLevel: 'silent',
      tenants: [
        { name: 'net', model: 'testnet', rate: 20 },
        { name: 'bad', model: 'early' },
      ],
    },
    { progress: false },
  );
  base = server.urls.base;
});

afterAll(async () => {
  await server?.close();
  restoreCache();
});

describe('vetting in the server', () => {
  it('a configured tenant whose model crashes is not started; the others serve', async () => {
    expect(server.service.tenantNames()).toEqual(['net']);
    expect(server.failed).toHaveLength(1);
    expect(server.failed[0]).toMatchObject({ name: 'bad', code: 'SWAPLESS_INVALID_MODEL' });
    await stillServes(1);
  });

  it('registering each hostile fixture placed in the repository: a typed 400, and the server carries on', async () => {
    expect(HOSTILE).toHaveLength(5);
    for (const [i, file] of HOSTILE.entries()) {
      await place(`hostile${i}`, file);
      const r = await post('/api/v1/tenants', { name: `h${i}`, model: `hostile${i}` });
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('SWAPLESS_INVALID_MODEL');
      expect(r.body.error).toContain(`hostile${i}`);
      await stillServes(10 + i);
    }
    // The verifier refuses those before any child runs; a model no verifier can fault (a division by a run-time
    // zero) reaches the vetting process, kills it, and is refused with the signal.
    await mkdir(join(repo, 'crash'), { recursive: true });
    await writeFile(join(repo, 'crash', 'model.tflite'), writeModel(divisionByZeroModel()));
    const crash = await post('/api/v1/tenants', { name: 'c', model: 'crash' });
    expect(crash.status).toBe(400);
    expect(crash.body).toMatchObject({ code: 'SWAPLESS_MODEL_REJECTED', reason: 'signal SIGFPE' });
    expect(crash.body.error).toContain('crash');
    await stillServes(20);
    const tenants = await get('/api/v1/tenants');
    expect(tenants.tenants.map((t: { name: string }) => t.name)).toEqual(['net']);
    expect((await fetch(`${base}/v2/health/ready`)).status).toBe(200);
  });

  it('GET /api/v1/models lists rejected repository models as rejected, with the reason', async () => {
    const models = await get('/api/v1/models');
    expect(models.repository).toEqual(['testnet']);
    expect(models.skipped.map((m: { name: string; code: string }) => [m.name, m.code])).toEqual(
      ['early', 'hostile0', 'hostile1', 'hostile2', 'hostile3', 'hostile4'].map((n) => [
        n,
        'SWAPLESS_INVALID_MODEL',
      ]),
    );
    expect(models.rejected).toEqual([
      {
        name: 'crash',
        code: 'SWAPLESS_MODEL_REJECTED',
        reason: 'signal SIGFPE',
        message: expect.stringContaining('repository model crash'),
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        retryable: false,
      },
    ]);
    expect(models.pending).toEqual([]);
  });

  it('a repository model replaced by a good one is vetted again and registers', async () => {
    await writeFile(join(repo, 'hostile1', 'model.tflite'), writeModel(buildTestNet(9)));
    const r = await post('/api/v1/tenants', { name: 'fixed', model: 'hostile1', rate: 1 });
    expect(r.status).toBe(201);
    const models = await get('/api/v1/models');
    expect(models.repository).toContain('hostile1');
    await stillServes(99);
  });
});

describe('vetting never holds the server up', () => {
  it('listens before the repository is vetted, lists what is being vetted as pending, and registers it once vetted', async () => {
    // A simulated vetting process: the model of `slow` is accepted only once the test says so; the test network
    // at once; anything else is refused by TFLite, as the real process reports it.
    const slow = writeModel(buildTestNet(4));
    const hash = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    const release = join(work, 'release-slow');
    const failure = {
      kind: 'error',
      typed: true,
      error: {
        name: 'TfLiteRuntimeError',
        code: 'SWAPLESS_TFLITE_RUNTIME',
        message: 'Node number 0 (CONV_2D) failed to prepare.',
        details: {},
      },
    };
    const script = `const fs = require('fs');
      const chunks = [];
      process.stdin.on('data', (c) => chunks.push(c));
      process.stdin.on('end', () => {
        const hash = require('crypto').createHash('sha256').update(Buffer.concat(chunks)).digest('hex');
        const done = () => fs.writeSync(3, JSON.stringify({ kind: 'done', ms: 1, shapes: { inputs: [], outputs: [] } }) + '\\n');
        if (hash === ${JSON.stringify(hash(testnet))}) return done();
        if (hash === ${JSON.stringify(hash(slow))}) {
          const wait = setInterval(() => fs.existsSync(${JSON.stringify(release)}) && (clearInterval(wait), done()), 20);
          return;
        }
        fs.writeSync(3, JSON.stringify({ kind: 'stage', stage: 'create', configuration: 0 }) + '\\n');
        fs.writeSync(3, JSON.stringify(${JSON.stringify(failure)}) + '\\n');
        process.exitCode = 1;
      });`;
    // Two at a time: the held-up vetting of `slow` must not queue the registration's own.
    const vetter = new Vetter({
      concurrency: 2,
      cacheDir: join(work, 'held-vets'),
      command: [process.execPath, '-e', script],
    });
    const held = join(work, 'held-models');
    await mkdir(join(held, 'slow'), { recursive: true });
    await writeFile(join(held, 'slow', 'model.tflite'), slow);
    const s = await startServer(
      {
        host: '127.0.0.1',
        port: 0,
        repository: held,
        stateDir: join(work, 'held-state'),
        profiling: { repetitions: 2, maxCuts: 3 },
        logLevel: 'silent',
        tenants: [],
      },
      { progress: false, service: { vetting: { vetter } } },
    );
    try {
      // Listening (with the old start-up, which waited for every verdict, startServer never resolved here), and the
      // vetting of `slow` goes on in the background.
      expect(s.scan.pending.map((p) => p.name)).toEqual(['slow']);
      await vi.waitFor(() => expect(vetter.stats().running).toBe(1));
      const listed = (await (await fetch(`${s.urls.base}/api/v1/models`)).json()) as Json;
      expect(listed.repository).toEqual([]);
      expect(listed.pending).toEqual([{ name: 'slow', sha256: hash(slow) }]);
      // TFLite refusing a model at registration is a 400 INVALID_MODEL naming the tenant (here a zoo model).
      const zoo = await fetch(`${s.urls.base}/api/v1/tenants`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'z', model: 'squeezenet' }),
      });
      expect(zoo.status).toBe(400);
      const refused = (await zoo.json()) as Json;
      expect(refused.code).toBe('SWAPLESS_INVALID_MODEL');
      expect(refused.error).toBe(
        `Expected a model TFLite can load for tenant z (zoo:squeezenet) but: ${failure.error.message}`,
      );
      // Released: the registration, which waited for the verdict, goes through.
      await writeFile(release, '');
      const r = await fetch(`${s.urls.base}/api/v1/tenants`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'later', model: 'slow' }),
      });
      expect(r.status).toBe(201);
      const after = (await (await fetch(`${s.urls.base}/api/v1/models`)).json()) as Json;
      expect(after.repository).toEqual(['slow']);
      expect(after.pending).toEqual([]);
    } finally {
      await s.close();
    }
  });
});

describe('vetting in the config', () => {
  it('is on by default with a 30 s limit; can be turned off; bad values are refused', () => {
    const { config } = parseConfig({});
    expect(config.vetting).toEqual({ enabled: true, timeoutMs: 30_000 });
    expect(serviceOptionsOf(config).vetting).toEqual({ timeoutMs: 30_000 });
    const off = parseConfig({ vetting: { enabled: false } }).config;
    expect(off.vetting).toEqual({ enabled: false, timeoutMs: 30_000 });
    expect(serviceOptionsOf(off).vetting).toBe(false);
    expect(() => parseConfig({ vetting: { timeoutMs: 5 } })).toThrow(/vetting\/timeoutMs/);
    expect(() => parseConfig({ vetting: { sandbox: true } })).toThrow(/vetting/);
  });
});
