import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kserveRoutes } from '@swapless/adapter-kserve';
import type { TensorArray } from '@swapless/contracts';
import { poissonArrivals } from '@swapless/controller';
import { OverloadedError } from '@swapless/core';
import { createInterpreter, type Interpreter } from '@swapless/edgetpu';
import { tinyModel } from '@swapless/int8-builder';
import { installAuth, startServer } from '@swapless/server';
import { writeModel } from '@swapless/tflite';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, useTempCache } from './test-util.js';

/**
 * A real KServe server: fastify + @swapless/adapter-kserve over real TFLite interpreters (the tiny FP32 and INT8
 * ADD models). Tenant "busy" is served but its backend rejects every other request as overloaded (503).
 */
function backendOf(models: Record<string, Uint8Array>) {
  const its = new Map<string, Interpreter>();
  for (const [name, bytes] of Object.entries(models)) its.set(name, createInterpreter(bytes));
  const received = new Map<string, TensorArray[]>();
  const served = new Map<string, number>();
  let turn = 0;
  const meta = (name: string) => {
    const it = its.get(name);
    if (!it) return undefined;
    const dt = (t: string) => (t === 'FLOAT32' ? 'FP32' : 'INT8') as 'FP32' | 'INT8';
    return {
      name,
      versions: ['1'],
      platform: 'tflite',
      inputs: it.inputs.map((t) => ({ name: t.name, datatype: dt(t.type), shape: [...t.shape] })),
      outputs: it.outputs.map((t) => ({ name: t.name, datatype: dt(t.type), shape: [...t.shape] })),
    };
  };
  return {
    received,
    served,
    isLive: () => true,
    isReady: () => true,
    modelNames: () => [...its.keys()],
    modelMetadata: meta,
    isModelReady: (name: string) => its.has(name),
    async infer(name: string, inputs: TensorArray[]) {
      if (name === 'busy' && turn++ % 2 === 0) throw new OverloadedError('Tenant "busy" is overloaded');
      const it = its.get(name)!;
      it.setInput(0, inputs[0]!);
      it.invoke();
      if (!received.has(name)) received.set(name, inputs);
      served.set(name, (served.get(name) ?? 0) + 1);
      return { outputs: [it.getOutput(0)] };
    },
    close: () => {
      for (const it of its.values()) it.dispose();
    },
  };
}

describe('swapless load', () => {
  const dir = useTempCache('load');
  let app: FastifyInstance;
  let url: string;
  let backend: ReturnType<typeof backendOf>;
  let workload: string;

  beforeAll(async () => {
    backend = backendOf({
      cam: writeModel(tinyModel({ shape: [1, 4] })),
      mic: writeModel(tinyModel({ type: 'int8', shape: [1, 8] })),
      busy: writeModel(tinyModel({ shape: [1, 2] })),
    });
    app = Fastify();
    await kserveRoutes(app, { backend });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    workload = join(dir(), 'workload.json');
    await writeFile(
      workload,
      JSON.stringify({
        tenants: [
          { name: 'cam', model: 'mobilenet_v1', rate: 40 },
          { name: 'mic', model: 'mobilenet_v2', rate: 20 },
        ],
        phases: [{ atS: 0.5, rates: { mic: 60 } }],
        durationS: 1,
        seed: 3,
      }),
    );
  });
  afterAll(async () => {
    await app.close();
    backend.close();
  });

  it('drives every tenant with open-loop arrivals and reports per tenant (--json)', async () => {
    const before = { cam: backend.served.get('cam') ?? 0, mic: backend.served.get('mic') ?? 0 };
    const r = await cli('load', '--url', url, '--workload', workload, '--json');
    expect(r.status, r.err).toBe(0);
    const report = JSON.parse(r.out);
    expect(Object.keys(report)).toEqual([
      'url',
      'workload',
      'binary',
      'seed',
      'durationS',
      'maxRequests',
      'maxInFlight',
      'timing',
      'warmupRequests',
      'windowS',
      'elapsedS',
      'stopped',
      'startedAtMs',
      'schedule',
      'total',
      'tenants',
    ]);
    expect(report).toMatchObject({ url, binary: false, seed: 3, durationS: 1, stopped: false, windowS: 1 });
    expect(report.timing).toMatch(/^measured/);
    expect(report.tenants.map((t: { name: string }) => t.name)).toEqual(['cam', 'mic']);
    for (const t of report.tenants) {
      expect(t.planned).toBeGreaterThan(0);
      expect(t.sent + t.dropped).toBe(t.planned);
      expect(t.ok + t.failed).toBe(t.sent);
      expect(t.errors).toEqual({});
      expect(Object.keys(t.latencyMs)).toEqual(['count', 'meanMs', 'p50Ms', 'p95Ms', 'p99Ms', 'maxMs']);
      expect(t.latencyMs.count).toBe(t.ok);
      expect(t.okPerS).toBeCloseTo(t.ok / report.windowS, 9);
    }
    // Every answered request reached the model on the server, and so did the uncounted warm-up requests.
    expect(report.warmupRequests).toBeGreaterThan(0);
    const warm = report.warmupRequests / 2;
    expect((backend.served.get('cam') ?? 0) - before.cam).toBe(report.tenants[0].ok + warm);
    expect((backend.served.get('mic') ?? 0) - before.mic).toBe(report.tenants[1].ok + warm);
    expect(report.total.ok).toBe(report.tenants[0].ok + report.tenants[1].ok);
    // Inputs follow the metadata: FP32 [1,4] and INT8 [1,8].
    expect(backend.received.get('cam')![0]).toBeInstanceOf(Float32Array);
    expect(backend.received.get('cam')![0]!.length).toBe(4);
    expect(backend.received.get('mic')![0]).toBeInstanceOf(Int8Array);
    expect(backend.received.get('mic')![0]!.length).toBe(8);

    // Same seed, same arrivals: the plan repeats exactly.
    const again = JSON.parse((await cli('load', '--url', url, '--workload', workload, '--json')).out);
    expect(again.tenants.map((t: { planned: number }) => t.planned)).toEqual(
      report.tenants.map((t: { planned: number }) => t.planned),
    );
    // The plan is the controller's seeded Poisson arrivals with the workload's phase (mic 20 → 60 req/s at 0.5 s).
    const plan = poissonArrivals(
      [
        { name: 'cam', rate: 40 },
        { name: 'mic', rate: 20 },
      ],
      { durationMs: 1000, seed: 3, phases: [{ atS: 0.5, rates: { mic: 60 } }] },
    );
    expect(report.tenants.map((t: { planned: number }) => t.planned)).toEqual([
      plan.cam!.length,
      plan.mic!.length,
    ]);
    const micLate = Array.from(plan.mic!).filter((t) => t >= 500).length;
    expect(micLate).toBeGreaterThan(plan.mic!.length - micLate);
    const other = JSON.parse(
      (
        await cli(
          'load',
          '--url',
          url,
          '--workload',
          workload,
          '--seed',
          '99',
          '--max-requests',
          '5',
          '--json',
        )
      ).out,
    );
    expect(other.seed).toBe(99);
    expect(other.total.planned).toBe(5);
    expect(other.total.sent).toBe(5);
  });

  it('bounds the run by --max-requests and --duration, binary tensors, human report, progress on stderr', async () => {
    const r = await cli(
      'load',
      '--url',
      url,
      '--workload',
      workload,
      '--binary',
      '--duration',
      '1.5',
      '--max-requests',
      '1000',
    );
    expect(r.status, r.err).toBe(0);
    expect(r.out).toMatch(/binary tensors, 1\.5 s of arrivals/);
    expect(r.out).toMatch(
      /^tenant +sent +ok +failed +dropped +mean ms +p50 ms +p95 ms +p99 ms +max ms +offered\/s +ok\/s$/m,
    );
    expect(r.out).toMatch(/^cam /m);
    expect(r.out).toMatch(/^all /m);
    expect(r.out).toMatch(/measured client-side HTTP round trips/);
    // Progress each second on stderr, never on stdout.
    expect(r.err).toMatch(/^load +1 s {2}sent \d+\/\d+ {2}ok \d+/m);
    expect(r.out).not.toMatch(/in flight/);
  });

  it('counts failures by HTTP status', async () => {
    const path = join(dir(), 'busy.json');
    await writeFile(
      path,
      JSON.stringify({ tenants: [{ name: 'busy', model: 'x', rate: 50 }], durationS: 0.5 }),
    );
    const report = JSON.parse(
      (await cli('load', '--url', url, '--workload', path, '--max-requests', '10', '--json')).out,
    );
    const t = report.tenants[0];
    expect(t.sent).toBe(10);
    expect(t.failed).toBe(5);
    expect(t.ok).toBe(5);
    expect(t.errors).toEqual({ '503': 5 });
    expect(report.total.errors).toEqual({ '503': 5 });
  });

  it('fails clearly when a tenant is not served or the server is unreachable (exit 1)', async () => {
    const path = join(dir(), 'ghost.json');
    await writeFile(path, JSON.stringify({ tenants: [{ name: 'ghost', model: 'x', rate: 5 }] }));
    const r = await cli('load', '--url', url, '--workload', path, '--json');
    expect(r.status).toBe(1);
    expect(JSON.parse(r.out).error.code).toBe('SWAPLESS_IO');
    expect(r.err).toMatch(
      /Expected the server at .* to serve model "ghost" \(the workload's tenant name\) but it answered 404/,
    );
    const down = await cli('load', '--url', 'http://127.0.0.1:1', '--workload', workload);
    expect(down.status).toBe(1);
    expect(down.err).toMatch(/could not be reached/);
  });

  it('rejects bad arguments with exit 2', async () => {
    const cases: string[][] = [
      ['--workload', workload],
      ['--url', url],
      ['--url', url, '--workload', workload, '--duration', '0'],
      ['--url', url, '--workload', workload, '--duration', 'x'],
      ['--url', url, '--workload', workload, '--max-requests', '-1'],
      ['--url', url, '--workload', workload, '--max-in-flight', '0'],
      ['--url', 'ftp://host', '--workload', workload],
      ['--url', url, '--workload', workload, 'extra'],
      ['--url', url, '--workload', workload, '--bogus'],
      ['--url', url, '--workload', workload, '--demo'],
      ['--demo'],
    ];
    for (const argv of cases) {
      const r = await cli('load', ...argv);
      expect([argv.join(' '), r.status]).toEqual([argv.join(' '), 2]);
    }
    const help = await cli('load', '--help');
    expect(help.status).toBe(0);
    expect(help.out).toMatch(/^Usage: swapless load --url URL \(--workload WORKLOAD\.json \| --demo\)/);
    expect(help.out).toMatch(/--demo +instead of --workload: the demo load the SwapLess server sized/);
    const missing = await cli('load', '--url', url, '--workload', join(dir(), 'none.json'));
    expect(missing.status).toBe(1);
  });
});

describe('swapless load against a server that requires a token, over HTTPS', () => {
  const dir = useTempCache('load-auth');
  const token = 'load-test-token-0123456789abcdef';
  let app: FastifyInstance;
  let url: string;
  let backend: ReturnType<typeof backendOf>;
  let workload: string;
  let cacert: string;

  beforeAll(async () => {
    // A self-signed certificate for 127.0.0.1, made by openssl for this run.
    const key = join(dir(), 'key.pem');
    cacert = join(dir(), 'cert.pem');
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cacert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    backend = backendOf({ cam: writeModel(tinyModel({ shape: [1, 4] })) });
    app = Fastify({
      https: { cert: await readFile(cacert), key: await readFile(key) },
    }) as unknown as FastifyInstance;
    // The server's own access policy: /v2 (but the health probes) needs the inference token.
    installAuth(app, {
      tokens: { admin: null, inference: token, metrics: null },
      host: '127.0.0.1',
      tls: true,
    });
    await kserveRoutes(app, { backend });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    workload = join(dir(), 'workload.json');
    await writeFile(
      workload,
      JSON.stringify({ tenants: [{ name: 'cam', model: 'x', rate: 40 }], durationS: 0.5, seed: 1 }),
    );
  });
  afterAll(async () => {
    await app.close();
    backend.close();
  });
  const load = (...argv: string[]) => cli('load', '--url', url, '--workload', workload, ...argv);

  it('sends --token (or SWAPLESS_INFERENCE_TOKEN) and trusts --cacert', async () => {
    expect(url).toMatch(/^https:/);
    const before = backend.served.get('cam') ?? 0;
    const r = await load('--cacert', cacert, '--token', token, '--json');
    expect(r.status, r.err).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.total.ok).toBeGreaterThan(0);
    expect(report.total.failed).toBe(0);
    expect((backend.served.get('cam') ?? 0) - before).toBe(report.total.ok + report.warmupRequests);

    const saved = process.env.SWAPLESS_INFERENCE_TOKEN;
    process.env.SWAPLESS_INFERENCE_TOKEN = token;
    try {
      const env = await load('--cacert', cacert, '--json');
      expect(env.status, env.err).toBe(0);
      expect(JSON.parse(env.out).total.failed).toBe(0);
      // The flag wins over the environment.
      const wrong = await load('--cacert', cacert, '--token', `${token}x`);
      expect(wrong.status).toBe(1);
      expect(wrong.err).toMatch(
        /to accept the token given but it answered 401: pass its inference token with --token or SWAPLESS_INFERENCE_TOKEN/,
      );
    } finally {
      if (saved === undefined) delete process.env.SWAPLESS_INFERENCE_TOKEN;
      else process.env.SWAPLESS_INFERENCE_TOKEN = saved;
    }
  });

  it('says what is missing: no token (401) or an untrusted certificate', async () => {
    const saved = process.env.SWAPLESS_INFERENCE_TOKEN;
    delete process.env.SWAPLESS_INFERENCE_TOKEN;
    try {
      const none = await load('--cacert', cacert);
      expect(none.status).toBe(1);
      expect(none.err).toMatch(
        /to accept requests without a token but it answered 401: it requires one; pass it with --token or SWAPLESS_INFERENCE_TOKEN/,
      );
      const untrusted = await load('--token', token);
      expect(untrusted.status).toBe(1);
      expect(untrusted.err).toMatch(/could not be reached: .*self-signed certificate/);
      const nofile = await load('--cacert', join(dir(), 'none.pem'));
      expect(nofile.status).toBe(1);
      expect(nofile.err).toMatch(
        /Expected a readable CA certificate file for --cacert but received .*none\.pem" \(ENOENT\)/,
      );
    } finally {
      if (saved !== undefined) process.env.SWAPLESS_INFERENCE_TOKEN = saved;
    }
  });
});

describe('swapless load --demo', () => {
  useTempCache('load-demo');
  let app: FastifyInstance;
  let url: string;
  let backend: ReturnType<typeof backendOf>;
  // What GET /examples/demo-load.json answers (a SwapLess server sizes it for its host; here a fixed one).
  let demo: { status: number; body: unknown } = { status: 404, body: {} };
  const workload = {
    device: 'usb3',
    cpu: { cores: 1 },
    tenants: [
      { name: 'cam', model: 'mobilenet_v1', rate: 30, sloMs: 50 },
      { name: 'mic', model: 'mobilenet_v2', rate: 10, sloMs: 40 },
    ],
    phases: [{ atS: 0.4, rates: { cam: 5, mic: 40 } }],
    durationS: 0.8,
    seed: 11,
  };

  beforeAll(async () => {
    backend = backendOf({
      cam: writeModel(tinyModel({ shape: [1, 4] })),
      mic: writeModel(tinyModel({ type: 'int8', shape: [1, 8] })),
    });
    app = Fastify();
    app.get('/examples/demo-load.json', async (_request, reply) => reply.code(demo.status).send(demo.body));
    await kserveRoutes(app, { backend });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    backend.close();
  });

  it("fetches the server's demo load and runs it with its phases, binary tensors", async () => {
    demo = { status: 200, body: workload };
    const r = await cli('load', '--url', url, '--demo', '--json');
    expect(r.status, r.err).toBe(0);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({
      url,
      workload: `${url}/examples/demo-load.json`,
      binary: true,
      seed: 11,
      durationS: 0.8,
    });
    expect(report.total.failed).toBe(0);
    // The arrivals are the demo's: its rates, its rate step, its seed.
    const plan = poissonArrivals(workload.tenants, {
      durationMs: 800,
      seed: 11,
      phases: workload.phases,
    });
    expect(report.tenants.map((t: { name: string; planned: number }) => [t.name, t.planned])).toEqual([
      ['cam', plan.cam!.length],
      ['mic', plan.mic!.length],
    ]);
    expect(report.total.ok).toBeGreaterThan(0);
    // Per phase, by when each request was due: before and after the step at 0.4 s.
    for (const [i, t] of report.tenants.entries()) {
      const name = workload.tenants[i]!.name as 'cam' | 'mic';
      const due = Array.from(plan[name]!);
      expect(t.phases.map((p: { fromS: number; toS: number }) => [p.fromS, p.toS])).toEqual([
        [0, 0.4],
        [0.4, 0.8],
      ]);
      expect(t.phases.map((p: { planned: number }) => p.planned)).toEqual([
        due.filter((at) => at < 400).length,
        due.filter((at) => at >= 400).length,
      ]);
      expect(t.phases[0].ok + t.phases[1].ok).toBe(t.ok);
      expect(t.phases[0].latencyMs.count + t.phases[1].latencyMs.count).toBe(t.latencyMs.count);
    }
    expect(report.startedAtMs).toBeGreaterThan(Date.now() - 60_000);
  });

  it('says so when the server has no demo load, or serves an invalid one', async () => {
    demo = { status: 404, body: { error: 'no demo load here' } };
    const none = await cli('load', '--url', url, '--demo', '--json');
    expect(none.status).toBe(1);
    expect(JSON.parse(none.out).error.code).toBe('SWAPLESS_IO');
    expect(none.err).toMatch(
      /Expected the demo load at .*\/examples\/demo-load\.json .* but it answered 404/,
    );
    demo = { status: 200, body: { tenants: [{ name: 'cam', rate: -1 }] } };
    const bad = await cli('load', '--url', url, '--demo', '--json');
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.out).error.code).toBe('SWAPLESS_INVALID_CONFIG');
    const down = await cli('load', '--url', 'http://127.0.0.1:1', '--demo');
    expect(down.status).toBe(1);
    expect(down.err).toMatch(/for --demo but it could not be reached/);
  });
});

describe('swapless load --demo against the real server', () => {
  const dir = useTempCache('load-demo-server');

  it('runs the demo load the server sized for this host, with its step (shortened by --duration)', async () => {
    await mkdir(join(dir(), 'models', 'tiny'), { recursive: true });
    await writeFile(
      join(dir(), 'models', 'tiny', 'model.tflite'),
      writeModel(tinyModel({ type: 'int8', shape: [1, 8] })),
    );
    const server = await startServer(
      {
        host: '127.0.0.1',
        port: 0,
        repository: join(dir(), 'models'),
        stateDir: join(dir(), 'state'),
        logLevel: 'silent',
        profiling: { repetitions: 2, maxCuts: 3 },
        tenants: [{ name: 'tiny', model: 'tiny' }],
      },
      { progress: false },
    );
    try {
      const demo = server.demoLoad!.workload;
      const r = await cli('load', '--url', server.urls.base, '--demo', '--duration', '1', '--json');
      expect(r.status, r.err).toBe(0);
      const report = JSON.parse(r.out);
      expect(report).toMatchObject({ binary: true, seed: demo.seed, durationS: 1 });
      expect(report.tenants.map((t: { name: string }) => t.name)).toEqual(['tiny']);
      // The demo's arrivals over the first second: its first-phase rate (its step comes at 20 s).
      const plan = poissonArrivals([{ name: 'tiny', rate: demo.tenants[0]!.rate }], {
        durationMs: 1000,
        seed: demo.seed,
        phases: demo.phases,
      });
      expect(report.total.planned).toBe(plan.tiny!.length);
      // Answered by the model (how many in time is the bench's business: npm run bench:live-truth).
      expect(report.total.ok).toBeGreaterThan(0);
      expect(report.total.ok + report.total.failed).toBe(report.total.sent);
    } finally {
      await server.close();
    }
  }, 120_000);
});
