import { readFile } from 'node:fs/promises';
import {
  type EncodedInferRequest,
  KServeClient,
  type KServeClientError,
  randomInputs,
} from '@swapless/adapter-kserve';
import { expected, parseWorkload, SwapLessIoError, UsageError, type Workload } from '@swapless/core';
import { SeededRandom } from '@swapless/tflite';
import { intFlag, parseCommand, positionals } from '../args.js';
import type { Command } from '../command.js';
import { type LoadProgress, type OpenLoopResult, runOpenLoop } from '../load-generator.js';
import { type Output, table } from '../output.js';
import { readWorkloadFile } from '../workload-file.js';

/** Encoded requests kept per tenant (used in turn): varied inputs without encoding on the hot path. */
const POOL = 8;
/**
 * The uncounted warm-up: each tenant's pool once, all tenants at once, each at its first-phase rate but over at most
 * this long — so the server's rate estimates see the load's own rates, not a burst a controller would re-plan for.
 */
const WARMUP_MAX_MS = 2000;

const help = `Usage: swapless load --url URL (--workload WORKLOAD.json | --demo) [--duration S] [--max-requests N]
                     [--seed S] [--binary] [--max-in-flight N] [--timeout S] [--token T] [--cacert FILE] [--json]

Drives a running SwapLess (or any KServe v2) server over HTTP with open-loop Poisson arrivals: each tenant of the
workload sends POST /v2/models/<tenant name>/infer at its rate, with the workload's phases (rate changes), no
matter how fast the server answers — the load to watch the server adapt live. Inputs are random tensors of the
datatypes and shapes the server's metadata gives (seeded). The tenants must already be served under their
workload names (GET /v2/models/<name>); the workload's model, device and cpu fields are not used here.

Before the arrivals start, each tenant gets 8 uncounted warm-up requests at its rate, over at most 2 s (keep-alive sockets open, both
sides' hot paths compiled). Progress goes to stderr each second. The report gives per tenant: requests sent, answered ok, failed by HTTP
status, dropped (arrivals while --max-in-flight requests were outstanding), the latency of the successful requests
(mean, p50, p95, p99, max — client-side round trips, measured) and the achieved rates.

Options:
  --url URL          the server, e.g. http://127.0.0.1:8080 or https://… (required)
  --workload FILE    the workload file (docs/cli.md): tenants, rates, phases, durationS, seed
  --demo             instead of --workload: the demo load the SwapLess server sized for its own host from what
                     its tenants cost there (GET /examples/demo-load.json): its tenants, rates with a rate step,
                     sustainable with headroom; tensors are sent binary (as with --binary)
  --duration S       length of the arrival window in seconds (default: the workload's durationS)
  --max-requests N   at most N requests in all, the earliest arrivals (default 1000000)
  --seed S           arrival and input seed (default: the workload's seed)
  --binary           send inputs and receive outputs as binary tensor data (default JSON)
  --max-in-flight N  outstanding requests beyond which arrivals are dropped (default 1024)
  --timeout S        per-request timeout in seconds; a timed-out request counts as "network" (default 30)
  --token T          bearer token for a server that requires one (its inference token); better from the
                     environment, where other users cannot see it: SWAPLESS_INFERENCE_TOKEN
  --cacert FILE      for an https:// URL: trust this CA certificate (PEM), e.g. a self-signed one
  --json             print the report as JSON (docs/cli.md)
  -h, --help         show this help

Ctrl-C stops the arrivals, waits for the requests in flight and prints the report so far.`;

/** Where a SwapLess server serves the demo load it sized for its host. */
export const DEMO_LOAD_PATH = '/examples/demo-load.json';

/** Fetches and validates the server's demo load (SwapLessIoError when it has none, InvalidConfigError if invalid). */
export async function fetchDemoLoad(client: KServeClient): Promise<ReturnType<typeof parseWorkload>> {
  const where = `${client.url}${DEMO_LOAD_PATH}`;
  let res: Awaited<ReturnType<KServeClient['request']>>;
  try {
    res = await client.request('GET', DEMO_LOAD_PATH);
  } catch (err) {
    throw new SwapLessIoError(
      `Expected a SwapLess server at ${client.url} for --demo but it could not be reached: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const text = res.body.toString('utf8');
  if (res.status !== 200) {
    throw new SwapLessIoError(
      `Expected the demo load at ${where} (a SwapLess server with tenants) but it answered ${res.status}: ${text.slice(0, 300)}`,
      { details: { status: res.status } },
    );
  }
  return parseWorkload(text, where);
}

function numberFlag(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= min || n > max) {
    throw new UsageError(expected(`a number above ${min} and at most ${max}`, `--${name}`, raw));
  }
  return n;
}

const ms = (v: number | null) => (v === null ? '—' : v.toFixed(2));

function render(r: OpenLoopResult & { url: string; binary: boolean }): string {
  const rows = [...r.tenants, { ...r.total, name: 'all' }].map((t) => [
    t.name,
    t.sent,
    t.ok,
    t.failed === 0
      ? '0'
      : `${t.failed} (${Object.entries(t.errors)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')})`,
    t.dropped,
    ms(t.latencyMs.meanMs),
    ms(t.latencyMs.p50Ms),
    ms(t.latencyMs.p95Ms),
    ms(t.latencyMs.p99Ms),
    ms(t.latencyMs.maxMs),
    t.plannedPerS.toFixed(1),
    t.okPerS.toFixed(1),
  ]);
  const lagging = (r.schedule.lagP99Ms ?? 0) > 10;
  return [
    `load: ${r.url}, ${r.binary ? 'binary' : 'JSON'} tensors, ${r.windowS.toFixed(1)} s of arrivals${r.stopped ? ' (stopped early)' : ''}, all answered after ${r.elapsedS.toFixed(1)} s`,
    '',
    table(
      [
        'tenant',
        'sent',
        'ok',
        'failed',
        'dropped',
        'mean ms',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'max ms',
        'offered/s',
        'ok/s',
      ],
      rows,
    ),
    '',
    'Latencies are measured client-side HTTP round trips of the successful requests.',
    `Scheduler lag p99 ${ms(r.schedule.lagP99Ms)} ms, max ${ms(r.schedule.lagMaxMs)} ms${lagging ? ': the generator fell behind its schedule (requests went out later than planned; run it on another machine or core)' : ''}.`,
  ].join('\n');
}

export const loadCommand: Command = {
  name: 'load',
  summary: 'drive a server over HTTP with open-loop Poisson arrivals from a workload; latency percentiles',
  help,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommand('load', argv, {
      url: { type: 'string' },
      workload: { type: 'string' },
      demo: { type: 'boolean', default: false },
      duration: { type: 'string' },
      'max-requests': { type: 'string' },
      seed: { type: 'string' },
      binary: { type: 'boolean', default: false },
      'max-in-flight': { type: 'string' },
      timeout: { type: 'string' },
      token: { type: 'string' },
      cacert: { type: 'string' },
    });
    positionals('load', pos, []);
    if (values.url === undefined)
      throw new UsageError('Expected --url URL for swapless load but received none');
    if (values.workload === undefined && values.demo !== true) {
      throw new UsageError('Expected --workload FILE or --demo for swapless load but received neither');
    }
    if (values.workload !== undefined && values.demo === true) {
      throw new UsageError('Expected either --workload FILE or --demo for swapless load but received both');
    }
    const durationS = numberFlag('duration', values.duration, 0, 86_400);
    const maxRequests = intFlag('max-requests', values['max-requests'], 1, 100_000_000) ?? 1_000_000;
    const seedFlag = intFlag('seed', values.seed, 0, 4_294_967_295);
    const maxInFlight = intFlag('max-in-flight', values['max-in-flight'], 1, 1_000_000) ?? 1024;
    const timeoutS = numberFlag('timeout', values.timeout, 0, 3600) ?? 30;

    const { client, token } = await loadClient({ ...values, url: values.url }, timeoutS);
    let parsed: Awaited<ReturnType<typeof readWorkloadFile>>;
    try {
      parsed = values.demo === true ? await fetchDemoLoad(client) : await readWorkloadFile(values.workload!);
    } catch (err) {
      client.close();
      throw err;
    }
    const { workload, warnings } = parsed;
    for (const w of warnings) io.err(`warning: ${w}`);
    const seed = seedFlag ?? workload.seed;
    // The demo measures the server, not JSON: its tensors go binary (a JSON image request costs the server's main
    // thread milliseconds of decoding that no stage of the controller's model holds).
    const binary = values.binary === true || values.demo === true;

    try {
      const requests = await requestPools(client, workload, { seed, binary, token });

      const warmupRequests = await warmUp(client, workload, requests, io);

      const controller = new AbortController();
      const onSigint = () => {
        io.err('load: stopping (Ctrl-C): waiting for the requests in flight…');
        controller.abort();
      };
      process.once('SIGINT', onSigint);
      let result: OpenLoopResult;
      try {
        result = await runOpenLoop({
          client,
          tenants: workload.tenants.map((t) => ({ name: t.name, rate: t.rate })),
          phases: workload.phases.map((p) => ({ atS: p.atS, rates: p.rates })),
          durationMs: (durationS ?? workload.durationS) * 1000,
          maxRequests,
          seed,
          requests,
          maxInFlight,
          signal: controller.signal,
          onProgress: (p: LoadProgress) =>
            io.err(
              `load ${p.elapsedS.toFixed(0).padStart(3)} s  sent ${p.sent}/${p.planned}  ok ${p.ok}  failed ${p.failed}  dropped ${p.dropped}  in flight ${p.inFlight}  p99 ${ms(p.recentP99Ms)} ms (last second)`,
            ),
        });
      } finally {
        process.removeListener('SIGINT', onSigint);
      }

      const report = {
        url: client.url,
        workload: values.workload ?? `${client.url}${DEMO_LOAD_PATH}`,
        binary,
        seed,
        durationS: durationS ?? workload.durationS,
        maxRequests,
        maxInFlight,
        timing: 'measured (client-side HTTP round trip)',
        warmupRequests,
        ...result,
      };
      io.out(values.json ? JSON.stringify(report, null, 2) : render(report));
      return 0;
    } finally {
      client.close();
    }
  },
};

/**
 * The client of the run: the token from the flag, else the environment (an empty value means none), and the CA
 * certificate of `--cacert` (SwapLessIoError when unreadable; UsageError for a bad URL).
 */
async function loadClient(
  flags: { url: string; token?: string | undefined; cacert?: string | undefined },
  timeoutS: number,
): Promise<{ client: KServeClient; token: string | undefined }> {
  // The flag wins over the environment; an empty value means none.
  const token = flags.token ?? process.env.SWAPLESS_INFERENCE_TOKEN;
  let ca: Buffer | undefined;
  if (flags.cacert !== undefined) {
    try {
      ca = await readFile(flags.cacert);
    } catch (err) {
      throw new SwapLessIoError(
        `Expected a readable CA certificate file for --cacert but received ${JSON.stringify(flags.cacert)} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        { cause: err },
      );
    }
  }
  let client: KServeClient;
  try {
    client = new KServeClient(flags.url, {
      timeoutMs: timeoutS * 1000,
      ...(token !== undefined && token !== '' ? { token } : {}),
      ...(ca !== undefined ? { ca } : {}),
    });
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  return { client, token };
}

/**
 * Inputs from the server's metadata: a fixed pool of encoded requests per tenant (SwapLessIoError when the server
 * cannot be reached, wants a token, or does not serve a tenant).
 */
async function requestPools(
  client: KServeClient,
  workload: Workload,
  { seed, binary, token }: { seed: number; binary: boolean; token: string | undefined },
): Promise<Map<string, EncodedInferRequest[]>> {
  const requests = new Map<string, EncodedInferRequest[]>();
  for (const [i, t] of workload.tenants.entries()) {
    let meta: Awaited<ReturnType<KServeClient['metadata']>>;
    try {
      meta = await client.metadata(t.name);
    } catch (err) {
      const status = (err as KServeClientError).status;
      if (status === 401) {
        throw new SwapLessIoError(
          `Expected the server at ${client.url} to accept ${token ? 'the token given' : 'requests without a token'} but it answered 401: ${token ? 'pass its inference token' : 'it requires one; pass it'} with --token or SWAPLESS_INFERENCE_TOKEN`,
          { cause: err, details: { status, tenant: t.name } },
        );
      }
      throw new SwapLessIoError(
        status === 0
          ? `Expected a KServe v2 server at ${client.url} but it could not be reached: ${(err as Error).message}`
          : `Expected the server at ${client.url} to serve model ${JSON.stringify(t.name)} (the workload's tenant name) but it answered ${status}: ${(err as Error).message.replace(/^The server answered \d+: /, '')}`,
        { cause: err, details: { status, tenant: t.name } },
      );
    }
    const rng = new SeededRandom(seed * 1000 + i);
    const random = () => rng.nextFloat();
    requests.set(
      t.name,
      Array.from({ length: POOL }, () => client.encodeInfer(randomInputs(meta, random), { binary })),
    );
  }
  return requests;
}

/** Sends each tenant's pool once, paced at its rate, before the run; returns how many requests that was. */
async function warmUp(
  client: KServeClient,
  workload: Workload,
  requests: ReadonlyMap<string, readonly EncodedInferRequest[]>,
  io: Output,
): Promise<number> {
  // Warm-up, not counted: open keep-alive sockets and let both sides compile their hot paths, so the first
  // second of the run measures the server rather than connection set-up and a cold JIT. Paced, not a burst: a
  // burst would look like a rate spike to the server's controller, which would re-plan for it just before the
  // run. A request the server refuses as malformed here would fail every time: say so now.
  let warmupRequests = 0;
  await Promise.all(
    workload.tenants.map(async (t) => {
      const pool = requests.get(t.name)!;
      warmupRequests += pool.length;
      const gapMs = Math.min(1000 / t.rate, WARMUP_MAX_MS / pool.length);
      const answers = await Promise.all(
        pool.map(async (r, i) => {
          await new Promise((resolve) => setTimeout(resolve, i * gapMs));
          return client.send(t.name, r).catch(() => null);
        }),
      );
      const bad = answers.find((a) => a !== null && a.status >= 400 && a.status < 500 && a.status !== 429);
      if (bad) {
        io.err(
          `warning: tenant ${JSON.stringify(t.name)}: the server answered ${bad.status} to a warm-up request: ${bad.body.toString('utf8').slice(0, 300)}`,
        );
      }
    }),
  );
  return warmupRequests;
}
