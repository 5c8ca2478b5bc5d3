/**
 * A client of this host, measured. The controller's predictions are meant to be what a client sees, and a client
 * sees more than the server's own time: its request waits for the server's event loop before any hook sees it, and
 * its answer waits for the client's own thread to be scheduled — on a busy 2-core host several milliseconds that
 * neither the runtime nor the HTTP front end can time. The probe is such a client: a worker thread (an OS thread of
 * its own, scheduled like any other process here) that asks this server for `/v2/health/live` every `intervalMs`
 * over one kept-alive connection and times the round trip. The mean round trip of a tick is what the host adds to
 * any request's time outside the server's hooks; the server counts it as front-end time (backends.ts).
 *
 * It measures a client on this host: a remote client adds its network round trip on top, which no server can see.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

/** A running probe. */
export interface ClientProbe {
  /** Mean round trip of the probes answered since the previous call, ms (null when none was), and starts anew. */
  take(): number | null;
  /** Stops probing (idempotent). */
  close(): Promise<void>;
}

/** The worker's code (CommonJS, evaluated): one request at a time, the next `intervalMs` after an answer. */
const PROBE_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, intervalMs } = workerData;
const target = new URL(url);
const http = require(target.protocol === 'https:' ? 'node:https' : 'node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let stopped = false;
let timer = null;
const next = () => { if (!stopped) timer = setTimeout(once, intervalMs); };
function once() {
  const t0 = performance.now();
  const req = http.request(
    { host: target.hostname, port: target.port, path: '/v2/health/live', agent, timeout: 10000,
      // The server's own certificate, possibly self-signed: the probe talks to this process only.
      rejectUnauthorized: false },
    (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode === 200) parentPort.postMessage(performance.now() - t0); next(); });
      res.on('error', next);
    },
  );
  req.on('timeout', () => req.destroy());
  req.on('error', next);
  req.end();
}
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  stopped = true;
  clearTimeout(timer);
  agent.destroy();
  parentPort.close();
});
next();
`;

/**
 * Starts probing the server at `baseUrl` (its `http://` or `https://` base URL) every `intervalMs`. A probe that
 * fails (e.g. the server is shutting down) is simply not counted.
 */
export function startClientProbe(baseUrl: string, intervalMs: number): ClientProbe {
  let sum = 0;
  let count = 0;
  const worker = new Worker(PROBE_SOURCE, {
    eval: true,
    workerData: { url: baseUrl, intervalMs },
    // A few requests a second need little: keep the thread small.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
  });
  worker.on('message', (ms: unknown) => {
    if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) {
      sum += ms;
      count++;
    }
  });
  // A probe that dies costs the prediction its client part (front-end time falls back), never the server.
  worker.on('error', () => undefined);
  worker.unref();
  let closed: Promise<void> | null = null;
  return {
    take() {
      const mean = count > 0 ? sum / count : null;
      sum = 0;
      count = 0;
      return mean;
    },
    close() {
      closed ??= (async () => {
        // While it stops, the thread keeps the process alive (up to 1 s): unreferenced, the event loop could run
        // dry with the server's other handles already closed and end the process before shutdown completes.
        worker.ref();
        worker.postMessage('stop');
        let guard: NodeJS.Timeout | undefined;
        const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        const timeout = new Promise<void>((resolve) => {
          guard = setTimeout(resolve, 1000);
        });
        await Promise.race([exited, timeout]);
        clearTimeout(guard);
        await worker.terminate();
      })();
      return closed;
    },
  };
}

/** Sampling interval of the event-loop lateness that stands in for the probe when it is off, ms. */
const LOOP_RESOLUTION_MS = 1;

/**
 * What a client on this host waits outside the server's hooks, as of the last controller tick: the probe's mean
 * round trip over the tick, else (probe off, or no answer in the tick) the event loop's mean lateness beyond its
 * 1 ms sampling interval. The server counts it as front-end time (backends.ts).
 */
export class OutsideTime {
  readonly #loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  readonly #probeMs: number;
  #probe: ClientProbe | null = null;
  #ms = 0;

  /** @param probeMs Interval of the client probe, ms (0: no probe). */
  constructor(probeMs: number) {
    this.#probeMs = probeMs;
    this.#loop.enable();
  }

  /** The current value, ms. */
  get ms(): number {
    return this.#ms;
  }

  /** Starts the probe against the server's base URL once it listens (nothing when the probe is off). */
  listening(baseUrl: string): void {
    if (this.#probeMs > 0 && this.#probe === null) this.#probe = startClientProbe(baseUrl, this.#probeMs);
  }

  /** Takes the tick's figures (called at every controller tick). */
  tick(): void {
    const mean = this.#loop.count > 0 ? this.#loop.mean / 1e6 - LOOP_RESOLUTION_MS : 0;
    this.#loop.reset();
    const probed = this.#probe?.take() ?? null;
    this.#ms = probed ?? (Number.isFinite(mean) ? Math.max(0, mean) : 0);
  }

  /** Stops the probe and the sampling. */
  async close(): Promise<void> {
    this.#loop.disable();
    await this.#probe?.close();
  }
}
