// End to end over real HTTP: the real server (real fastify on a loopback port, the service with the emulated usb3
// Edge TPU and the real TFLite runtime) with small models from a temporary repository.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseWorkload } from '@swapless/core';
import { buildTestNet, tinyModel } from '@swapless/int8-builder';
import { SeededRandom, writeModel } from '@swapless/tflite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ServerConfigInput } from './config.js';
import { serve } from './serve.js';
import { type RunningServer, startServer } from './server.js';
import {
  memoryLogger,
  reference,
  startServerProcess,
  testServerConfig,
  useTestCache,
} from './test-support.js';

const run = promisify(execFile);
const testnet = writeModel(buildTestNet(3));
const tiny = writeModel(tinyModel({ type: 'int8', shape: [1, 8] }));
let restoreCache = (): void => {};

let work: string;
let repo: string;
let server: RunningServer;
let base: string;
const logs: Record<string, unknown>[] = [];

function config(overrides: ServerConfigInput = {}): ServerConfigInput {
  return {
    ...testServerConfig(work, repo),
    bodyLimit: 256 * 1024,
    tenants: [
      { name: 'net', model: 'testnet', rate: 40 },
      { name: 'tiny', model: 'tiny', rate: 10 },
    ],
    ...overrides,
  };
}

function int8Input(seed: number): Int8Array {
  const x = new Int8Array(16 * 16 * 3);
  new SeededRandom(seed).fillUniformInt8(x);
  return x;
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
}

function inferBody(input: Int8Array, datatype = 'INT8', shape = [1, 16, 16, 3]) {
  return { inputs: [{ name: 'input', datatype, shape, data: Array.from(input) }] };
}

/** A raw HTTP GET with the path sent exactly as given (fetch would normalise `..`). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Proof that the server still serves the others: one good inference on `net`. */
async function stillServes(): Promise<void> {
  const x = int8Input(99);
  const res = await post('/v2/models/net/infer', inferBody(x));
  expect(res.status).toBe(200);
  const body = (await res.json()) as { outputs: { data: number[] }[] };
  expect(body.outputs[0]!.data).toEqual(reference(testnet, x)[0]);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'swapless-server-e2e-'));
  restoreCache = useTestCache(work);
  repo = join(work, 'models');
  await mkdir(join(repo, 'testnet'), { recursive: true });
  await writeFile(join(repo, 'testnet', 'model.tflite'), testnet);
  await mkdir(join(repo, 'tiny'));
  await writeFile(join(repo, 'tiny', 'model.tflite'), tiny);
  await writeFile(join(repo, 'tiny', 'config.json'), JSON.stringify({ sloMs: 50, description: 'x + x' }));
  // A malformed model dropped into the repository: skipped and logged at startup.
  await mkdir(join(repo, 'broken'));
  await writeFile(join(repo, 'broken', 'model.tflite'), Buffer.from('TFL3 this is not a flatbuffer at all'));
  server = await startServer(config(), { logger: memoryLogger(logs), progress: false });
  base = server.urls.base;
});

afterAll(async () => {
  await server?.close();
  restoreCache();
});

describe('startup', () => {
  it('starts the config tenants and skips (and logs) the malformed repository model', () => {
    expect(server.service.tenantNames()).toEqual(['net', 'tiny']);
    expect(server.failed).toEqual([]);
    expect(server.scan.models.map((m) => m.name)).toEqual(['testnet', 'tiny']);
    expect(server.scan.skipped.map((s) => [s.name, s.code])).toEqual([['broken', 'SWAPLESS_INVALID_MODEL']]);
    const line = logs.find((l) => l.msg === `repository entry skipped: ${server.scan.skipped[0]!.message}`);
    expect(line).toMatchObject({ level: 40, model: 'broken', code: 'SWAPLESS_INVALID_MODEL' });
    expect(server.port).toBeGreaterThan(0);
    expect(server.urls.api).toBe(`http://127.0.0.1:${server.port}/v2`);
  });

  it('writes an example request per tenant whose curl line works verbatim', async () => {
    expect(Object.keys(server.examples).sort()).toEqual(['net', 'tiny']);
    const line = server.curl.net!;
    expect(line).toContain(`--data-binary @${server.examples.net}`);
    const { stdout } = await run('sh', ['-c', line.replace(' | head -c 400; echo', '')]);
    const body = JSON.parse(stdout) as {
      model_name: string;
      outputs: { datatype: string; shape: number[] }[];
    };
    expect(body.model_name).toBe('net');
    expect(body.outputs[0]).toMatchObject({ datatype: 'INT8', shape: [1, 10] });
  });

  it('refuses a port in use with a typed error naming the fix', async () => {
    const err = await startServer(config({ port: server.port, tenants: [], logLevel: 'silent' }), {
      progress: false,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SWAPLESS_IO', details: { code: 'EADDRINUSE' } });
    expect((err as Error).message).toMatch(/in use .*--port or SWAPLESS_PORT/);
    await stillServes();
  });

  it('starts without the tenants a missing Edge TPU cannot serve, saying why', async () => {
    const s = await startServer(
      config({
        device: { edgetpu: { library: join(work, 'no-such-libedgetpu.so.1') } },
        // Policy default: the whole model on the Edge TPU, so the tenant needs the delegate.
        policy: 'default',
        tenants: [{ name: 'tpu', model: 'testnet' }],
        logLevel: 'silent',
      }),
      { progress: false },
    );
    try {
      expect(s.failed).toEqual([
        {
          name: 'tpu',
          code: 'SWAPLESS_DELEGATE_UNAVAILABLE',
          message: expect.stringMatching(/libedgetpu/),
          from: 'config',
        },
      ]);
      expect(s.service.tenantNames()).toEqual([]);
      expect((await fetch(`${s.urls.api}/health/live`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('answers the index at /', async () => {
    const body = (await (await fetch(`${base}/`)).json()) as {
      urls: Record<string, string>;
      tenants: unknown[];
    };
    expect(body.urls.dashboard).toBe(`${base}/dashboard`);
    expect(body.tenants).toHaveLength(2);
    const missing = await fetch(`${base}/nope/../../etc/passwd`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('SWAPLESS_NOT_FOUND');
  });

  it('gives clients a curl line that names no file of the host and works verbatim', async () => {
    const text = await (await fetch(`${base}/`)).text();
    expect(text).not.toContain(work);
    const { tenants } = JSON.parse(text) as { tenants: { name: string; example: string }[] };
    const line = tenants.find((t) => t.name === 'net')!.example;
    expect(line).toContain(`${base}/examples/net.json`);
    const { stdout } = await run('sh', ['-c', line.replace(' | head -c 400; echo', '')]);
    expect(JSON.parse(stdout)).toMatchObject({
      model_name: 'net',
      outputs: [{ datatype: 'INT8', shape: [1, 10] }],
    });
    const example = await fetch(`${base}/examples/net.json`);
    expect(example.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await example.text()).toBe(await readFile(server.examples.net!, 'utf8'));
    for (const path of ['/examples/nope.json', '/examples/net', '/examples/..%2f..%2fetc%2fpasswd']) {
      const refused = await fetch(`${base}${path}`);
      expect(refused.status, path).toBe(404);
      expect(await refused.text()).not.toContain(work);
    }
  });
});

describe('the demo load', () => {
  it('serves a workload sized for this host that `swapless load` accepts, and writes it to the state directory', async () => {
    const index = (await (await fetch(`${base}/`)).json()) as { demoLoad: string };
    expect(index.demoLoad).toBe(`${base}/examples/demo-load.json`);
    const res = await fetch(index.demoLoad);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await res.text();
    expect(text).not.toContain(work);
    // What `swapless load --demo` does with it: the workload schema of @swapless/core.
    const { workload } = parseWorkload(text, 'GET /examples/demo-load.json');
    expect(workload.tenants.map((t) => t.name)).toEqual(['net', 'tiny']);
    for (const t of workload.tenants) {
      expect(t.rate).toBeGreaterThan(0);
      expect(t.sloMs).toBeGreaterThanOrEqual(10);
    }
    // The demo shape: one rate step at 20 s of 40 (the first tenant down to a quarter, the second tripled).
    expect(workload.durationS).toBe(40);
    expect(workload.phases).toHaveLength(1);
    expect(workload.phases[0]!.atS).toBe(20);
    expect(workload.phases[0]!.rates.net).toBeLessThan(workload.tenants[0]!.rate);
    expect(workload.phases[0]!.rates.tiny).toBeGreaterThan(workload.tenants[1]!.rate);
    // Sized from what the tenants cost here: measured compute and decoding, at most half of any resource.
    const sizing = server.demoLoad!.sizing;
    expect(sizing.costs.map((c) => c.name)).toEqual(['net', 'tiny']);
    for (const c of sizing.costs) {
      expect(c.hostMs).toBeGreaterThan(0);
      expect(c.overheadMs).toBeGreaterThan(0);
    }
    for (const p of sizing.phases) expect(Math.max(p.host, p.lanes, p.device)).toBeLessThanOrEqual(0.5);
    expect(JSON.parse(await readFile(join(work, 'state', 'demo-load.json'), 'utf8'))).toEqual(
      JSON.parse(text),
    );
  });
});

describe('KServe v2 API', () => {
  it('reports server metadata, health and model metadata', async () => {
    const meta = (await (await fetch(`${base}/v2`)).json()) as { name: string; extensions: string[] };
    expect(meta.name).toBe('swapless');
    expect(meta.extensions).toContain('binary_tensor_data');
    expect((await fetch(`${base}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/v2/health/ready`)).status).toBe(200);
    const model = await (await fetch(`${base}/v2/models/net`)).json();
    expect(model).toEqual({
      name: 'net',
      versions: ['1'],
      platform: 'tflite',
      inputs: [{ name: 'input', datatype: 'INT8', shape: [1, 16, 16, 3] }],
      outputs: [{ name: expect.any(String), datatype: 'INT8', shape: [1, 10] }],
    });
    expect((await fetch(`${base}/v2/models/net/ready`)).status).toBe(200);
  });

  it('infers: the result equals the unsplit model’s output, with the trace summary in parameters', async () => {
    for (const seed of [1, 2, 3]) {
      const x = int8Input(seed);
      const res = await post('/v2/models/net/infer', { id: `r${seed}`, ...inferBody(x) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        id: string;
        model_name: string;
        parameters: Record<string, unknown>;
        outputs: { data: number[] }[];
      };
      expect(body.id).toBe(`r${seed}`);
      expect(body.model_name).toBe('net');
      expect(body.outputs[0]!.data).toEqual(reference(testnet, x)[0]);
      const status = server.service.tenants().find((t) => t.name === 'net')!;
      expect(body.parameters).toMatchObject({ k: expect.any(Number), cores: expect.any(Number) });
      expect(body.parameters.latency_ms).toBeGreaterThan(0);
      expect(body.parameters.timing).toBe((body.parameters.k as number) === 0 ? 'measured' : 'emulated');
      expect(status.ops).toBeGreaterThan(0);
    }
  });

  it('rejects bad requests with a clean 4xx and keeps serving', async () => {
    const x = int8Input(5);
    const cases: [string, Promise<Response>, number][] = [
      ['malformed JSON', post('/v2/models/net/infer', '{"inputs": [ {"name": '), 400],
      ['wrong datatype', post('/v2/models/net/infer', inferBody(x, 'FP32')), 400],
      ['wrong shape', post('/v2/models/net/infer', inferBody(x, 'INT8', [1, 16, 16, 4])), 400],
      [
        'wrong element count',
        post('/v2/models/net/infer', {
          inputs: [{ name: 'input', datatype: 'INT8', shape: [1, 16, 16, 3], data: [1, 2] }],
        }),
        400,
      ],
      ['unknown model', post('/v2/models/nosuch/infer', inferBody(x)), 404],
      [
        'oversized body',
        post('/v2/models/net/infer', `{"inputs":[],"pad":"${'x'.repeat(300 * 1024)}"}`),
        413,
      ],
    ];
    for (const [what, pending, status] of cases) {
      const res = await pending;
      expect(res.status, what).toBe(status);
      const body = (await res.json()) as { error: string };
      expect(typeof body.error, what).toBe('string');
      expect(body.error.length, what).toBeGreaterThan(0);
    }
    await stillServes();
  });

  it('refuses path traversal in model names', async () => {
    for (const path of [
      '/v2/models/..%2f..%2fetc%2fpasswd',
      '/v2/models/%2e%2e%2f%2e%2e%2fetc',
      '/v2/models/%2e%2e',
      '/v2/models/..%2fnet/ready',
    ]) {
      const { status, body } = await rawGet(path);
      expect([400, 404], path).toContain(status);
      expect(JSON.parse(body).error, path).toEqual(expect.any(String));
    }
    const res = await post('/v2/models/%2e%2e%2fnet/infer', inferBody(int8Input(1)));
    expect([400, 404]).toContain(res.status);
    await stillServes();
  });
});

describe('management API', () => {
  it('registers a tenant from the repository, serves it, and removes it', async () => {
    const created = await post('/api/v1/tenants', { name: 'tiny2', model: 'tiny', rate: 5 });
    expect(created.status).toBe(201);
    const status = (await created.json()) as { name: string; source: string; sloMs: number | null };
    expect(status).toMatchObject({ name: 'tiny2', source: 'repository:tiny', sloMs: 50 });
    const list = (await (await fetch(`${base}/api/v1/tenants`)).json()) as unknown;
    expect(JSON.stringify(list)).toContain('"tiny2"');
    const meta = (await (await fetch(`${base}/v2/models/tiny2`)).json()) as { inputs: { name: string }[] };
    const input = new Int8Array([1, -2, 3, -4, 5, -6, 7, -8]);
    const res = await post('/v2/models/tiny2/infer', {
      inputs: [{ name: meta.inputs[0]!.name, datatype: 'INT8', shape: [1, 8], data: Array.from(input) }],
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data).toEqual(
      reference(tiny, input)[0],
    );
    expect(server.examples.tiny2).toBeDefined();

    const removed = await fetch(`${base}/api/v1/tenants/tiny2`, { method: 'DELETE' });
    expect([200, 204]).toContain(removed.status);
    expect(server.service.has('tiny2')).toBe(false);
    expect((await post('/v2/models/tiny2/infer', {})).status).toBe(404);
    await stillServes();
  });

  it('registers from the zoo by name', async () => {
    const created = await post('/api/v1/tenants', { name: 'zoo1', model: 'squeezenet' });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { source: string }).source).toBe('zoo:squeezenet');
    expect((await fetch(`${base}/api/v1/tenants/zoo1`, { method: 'DELETE' })).status).toBeLessThan(300);
  });

  it('gives 4xx for bad registrations and keeps serving', async () => {
    const cases: [string, unknown, number[], string?][] = [
      ['malformed model in the repository', { name: 'b', model: 'broken' }, [400]],
      ['path traversal', { name: 'p', model: '../../etc/passwd' }, [400]],
      ['encoded traversal', { name: 'p', model: '%2e%2e%2fetc' }, [400]],
      // A model that exists nowhere makes the registration body a bad request, not a missing resource.
      ['unknown model', { name: 'u', model: 'nosuchmodel' }, [400], 'SWAPLESS_INVALID_ARGUMENT'],
      ['duplicate name', { name: 'net', model: 'tiny' }, [409], 'SWAPLESS_CONFLICT'],
      ['bad tenant name', { name: '../x', model: 'tiny' }, [400]],
      ['missing model', { name: 'm' }, [400]],
    ];
    for (const [what, body, statuses, code] of cases) {
      const res = await post('/api/v1/tenants', body);
      expect(statuses, `${what}: ${res.status}`).toContain(res.status);
      const answer = (await res.json()) as { error: string; code?: string };
      expect(answer.error, what).toEqual(expect.any(String));
      if (code !== undefined) expect(answer.code, what).toBe(code);
    }
    expect((await post('/api/v1/tenants', '{"name": "x", ')).status).toBe(400);
    const missing = await fetch(`${base}/api/v1/tenants/nosuch`, { method: 'DELETE' });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code?: string }).code).toBe('SWAPLESS_NOT_FOUND');
    expect(server.service.tenantNames()).toEqual(['net', 'tiny']);
    await stillServes();
  });

  it('lists repository and zoo models with the skipped entries', async () => {
    const body = (await (await fetch(`${base}/api/v1/models`)).json()) as {
      repository: unknown[];
      zoo: string[];
      skipped: { name: string }[];
    };
    expect(JSON.stringify(body.repository)).toContain('testnet');
    expect(body.zoo).toContain('mobilenet_v2');
    expect(body.skipped.map((s) => s.name)).toEqual(['broken']);
    // A model dropped in while the server runs is listed by the next call, no restart or wait: as pending while
    // it is vetted, then as usable.
    await mkdir(join(repo, 'late'));
    await writeFile(join(repo, 'late', 'model.tflite'), tiny);
    type Listing = { repository: string[]; pending: { name: string }[] };
    const listing = async () => (await (await fetch(`${base}/api/v1/models`)).json()) as Listing;
    const again = await listing();
    expect([...again.repository, ...again.pending.map((p) => p.name)]).toContain('late');
    await vi.waitFor(async () => expect((await listing()).repository).toContain('late'), { timeout: 30_000 });
  });

  it('reports the controller and its decisions', async () => {
    const controller = (await (await fetch(`${base}/api/v1/controller`)).json()) as Record<string, unknown>;
    expect(controller).toMatchObject({ policy: 'swapless', backend: 'emulated', device: 'usb3' });
    const history = (await (await fetch(`${base}/api/v1/controller/history?limit=5`)).json()) as unknown;
    expect(JSON.stringify(history)).toContain('"trigger"');
  });
});

describe('metrics and dashboard', () => {
  it('exposes the expected Prometheus series', async () => {
    await stillServes();
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^swapless_requests_total\{[^}]*tenant="net"[^}]*outcome="ok"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^swapless_request_duration_seconds_bucket\{[^}]*tenant="net"/m);
    expect(text).toMatch(/^swapless_tenant_partition_point\{tenant="net"\} \d+/m);
    expect(text).toMatch(/^swapless_tenant_cpu_cores\{tenant="tiny"\} \d+/m);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
  });

  it('serves the dashboard page and its data', async () => {
    const page = await fetch(`${base}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const data = (await (await fetch(`${base}/dashboard/data`)).json()) as Record<string, unknown>;
    expect(Object.keys(data)).toEqual(
      expect.arrayContaining(['series', 'tenants', 'device', 'controller', 'history']),
    );
    expect(JSON.stringify(data.tenants)).toContain('"net"');
  });
});

describe('serve()', () => {
  it('prints the banner with the URLs and a curl line, and stops cleanly', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const configPath = join(work, 'serve.json');
    await writeFile(
      configPath,
      JSON.stringify({ ...config({ tenants: [{ name: 'only', model: 'tiny' }] }), logLevel: 'silent' }),
    );
    let running: RunningServer | undefined;
    const done = serve(['--config', configPath, '--port', '0'], {
      io: { out: (t) => out.push(t), err: (t) => err.push(t) },
      signals: false,
      started: (s) => {
        running = s;
      },
    });
    while (running === undefined) await new Promise((r) => setTimeout(r, 20));
    const text = out.join('\n');
    expect(text).toContain(`KServe v2 API   ${running.urls.api}`);
    expect(text).toContain(`Dashboard       ${running.urls.dashboard}`);
    expect(text).toContain(`Metrics         ${running.urls.metrics}`);
    expect(text).toContain(
      `curl -s -H 'Content-Type: application/json' --data-binary @${running.examples.only}`,
    );
    expect(text).toContain(`${running.urls.api}/models/only/infer`);
    await running.close();
    expect(await done).toBe(0);
  });

  it('reports a config error as a typed error before starting anything', async () => {
    const bad = join(work, 'bad.yaml');
    await writeFile(bad, 'port: [');
    await expect(serve(['--config', bad], { signals: false })).rejects.toMatchObject({
      code: 'SWAPLESS_INVALID_CONFIG',
    });
    await expect(serve(['--port', 'x'], { signals: false })).rejects.toMatchObject({
      code: 'SWAPLESS_USAGE',
    });
  });
});

describe('graceful shutdown', () => {
  it('drains an in-flight request, then refuses new connections', async () => {
    // Slow the emulated device down 100× and keep the whole model on it (policy default), so one request is in
    // flight for a while.
    const slow = await startServer(
      config({ policy: 'default', tenants: [{ name: 'net', model: 'testnet' }], logLevel: 'silent' }),
      { progress: false, service: { emulator: { timeScale: 100 } } },
    );
    const url = `${slow.urls.api}/models/net/infer`;
    const x = int8Input(7);
    const pending = fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(inferBody(x)),
    });
    while ((slow.service.tenants()[0]?.inFlight ?? 0) === 0) await new Promise((r) => setTimeout(r, 5));
    const closed = slow.close();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data).toEqual(
      reference(testnet, x)[0],
    );
    await closed;
    await expect(fetch(url, { method: 'POST', body: '{}' })).rejects.toThrow();
    expect(slow.service.ready).toBe(false);
  });
});

describe('the program (bin/swapless-server.js)', () => {
  const bin = join(import.meta.dirname, '..', 'bin', 'swapless-server.js');

  /** Starts the bin on a config with one tiny tenant; resolves with the child and its `--json` startup line. */
  async function startBin(extra: string[] = []) {
    const configPath = join(work, `bin-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(
      configPath,
      JSON.stringify({ ...config({ tenants: [{ name: 'only', model: 'tiny' }] }), logLevel: 'info' }),
    );
    return startServerProcess(configPath, extra);
  }

  it('serves, then exits 0 on SIGTERM after a graceful shutdown', async () => {
    const p = await startBin();
    expect(p.summary.tenants.map((t) => t.name)).toEqual(['only']);
    const res = await fetch(`${p.summary.urls.base}/v2/health/ready`);
    expect(res.status).toBe(200);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.stderr()).toMatch(/"msg":"shut down"/);
  });

  it('exits 1 at once on a second signal', async () => {
    const p = await startBin();
    // Two different signals: two of the same kind pending at once may be delivered as one.
    p.child.kill('SIGINT');
    p.child.kill('SIGTERM');
    const code = await p.exited;
    expect(p.stderr()).toMatch(/again, exiting now/);
    expect(code).toBe(1);
  });

  it('exits 2 on bad arguments and 1 on a bad config, with a clear message', async () => {
    const usage = await run(process.execPath, [bin, '--port', 'eighty']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(usage).toMatchObject({ code: 2 });
    expect((usage as { stderr: string }).stderr).toMatch(/Expected an integer from 0 to 65535 for --port/);
    const bad = join(work, 'schema.yaml');
    await writeFile(bad, 'port: 8080\npolicy: fastest\n');
    const config1 = await run(process.execPath, [bin, '--config', bad]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(config1).toMatchObject({ code: 1 });
    expect((config1 as { stderr: string }).stderr).toMatch(
      /\/policy: must be equal to one of the allowed values.*SWAPLESS_INVALID_CONFIG/s,
    );
    const help = await run(process.execPath, [bin, '--help']);
    expect(help.stdout).toMatch(/^Usage: swapless serve/);
  });
});
