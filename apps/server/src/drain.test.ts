// A rolling upgrade as the server sees it: the real program (bin/swapless-server.js, a child process) gets SIGTERM
// while slow inferences are in flight — as Kubernetes sends it after the preStop hook. The in-flight requests finish
// with their right answers, a readiness probe arriving on an open connection gets 503, new connections are refused,
// and the process exits 0; with shutdownTimeoutMs shorter than the work in flight it exits 1 at that bound.
import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { GraphBuilder } from '@swapless/int8-builder';
import { SeededRandom, writeModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import type { ServerConfigInput } from './config.js';
import { reference, startServerProcess, testServerConfig, useServerWork } from './test-support.js';

/**
 * Two 2048×2048 fully connected layers: 8 MiB of int8 weights, more than the Edge TPU's parameter cache, so on the
 * emulated USB 2 link every request streams most of them (hundreds of ms of device time) while its CPU cost stays
 * a few ms.
 */
function bigModel(): Uint8Array {
  const b = new GraphBuilder({ seed: 5 });
  const x = b.input('input', [1, 2048]);
  const h = b.fullyConnected(x, { units: 2048, activation: 'relu', name: 'fc1' });
  b.output(b.fullyConnected(h, { units: 2048, name: 'fc2' }));
  return writeModel(b.build());
}

const big = bigModel();
const dirs = useServerWork('drain', { big });

function input(seed: number): Int8Array {
  const x = new Int8Array(2048);
  new SeededRandom(seed).fillUniformInt8(x);
  return x;
}

async function startSlow(overrides: ServerConfigInput) {
  const path = join(dirs.work(), `drain-${Math.random().toString(36).slice(2)}.json`);
  const config: ServerConfigInput = {
    ...testServerConfig(dirs.work(), dirs.repo()),
    // The whole model on the emulated USB 2 device, one request at a time: each takes its streaming time.
    device: 'usb2',
    policy: 'default',
    deadlineMs: 60_000,
    tenants: [{ name: 'big', model: 'big' }],
    logLevel: 'info',
    ...overrides,
  };
  await writeFile(path, JSON.stringify(config));
  const p = await startServerProcess(path);
  return { ...p, base: p.summary.urls.base };
}

function infer(base: string, seed: number): Promise<Response> {
  return fetch(`${base}/v2/models/big/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [{ name: 'input', datatype: 'INT8', shape: [1, 2048], data: Array.from(input(seed)) }],
    }),
  });
}

/** Waits until the tenant has `n` requests admitted and not completed. */
async function inFlight(base: string, n: number): Promise<void> {
  for (;;) {
    const t = (await (await fetch(`${base}/api/v1/tenants/big`)).json()) as { inFlight: number };
    if (t.inFlight >= n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A raw connection whose request head is sent in two parts (the second once the shutdown has begun). */
async function halfSent(base: string): Promise<{ finish(): Promise<string> }> {
  const socket: Socket = connect(Number(new URL(base).port), '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write('GET /v2/health/ready HTTP/1.1\r\nHost: x\r\n');
  return {
    finish: async () => {
      socket.write('\r\n');
      await closed;
      return text;
    },
  };
}

/** Resolves once the server's log says the shutdown has begun. */
async function draining(stderr: () => string): Promise<void> {
  while (!stderr().includes('shutting down: no new connections')) await new Promise((r) => setTimeout(r, 5));
}

describe('SIGTERM with slow requests in flight (the program, as a pod is stopped)', () => {
  it('finishes every request in flight, answers readiness 503, refuses new connections, exits 0', async () => {
    const p = await startSlow({ shutdownTimeoutMs: 30_000 });
    expect((await fetch(`${p.base}/v2/health/ready`)).status).toBe(200);
    const probe = await halfSent(p.base);
    const seeds = [1, 2, 3];
    const t0 = performance.now();
    const pending = seeds.map((s) => infer(p.base, s));
    await inFlight(p.base, seeds.length);
    p.child.kill('SIGTERM');
    await draining(p.stderr);
    const signalledAt = performance.now();

    // A probe on a connection that was already open: 503 in the error shape, then the connection closes.
    const answer = await probe.finish();
    expect(answer).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(answer).toContain('"code":"SWAPLESS_SHUTTING_DOWN"');
    // A new connection while the requests in flight are still running: refused — the port is closed, or, if it
    // got in just before it closed, the same 503.
    const fresh = await fetch(`${p.base}/v2/health/live`).then(
      (r) => `answered ${r.status}`,
      (e: Error & { cause?: { code?: string } }) => e.cause?.code ?? e.message,
    );
    expect(['ECONNREFUSED', 'answered 503']).toContain(fresh);

    // Every request in flight completes, with the model's own outputs.
    const responses = await Promise.all(pending);
    const doneAt = performance.now();
    for (const [i, r] of responses.entries()) {
      expect(r.status).toBe(200);
      const body = (await r.json()) as { outputs: { data: number[] }[] };
      expect(body.outputs[0]!.data).toEqual(reference(big, input(seeds[i]!))[0]);
    }
    // They really were slow: the drain waited for them (the last finished well after the signal).
    expect(doneAt - signalledAt).toBeGreaterThan(100);
    expect(await p.exited).toBe(0);
    expect(p.stderr()).toMatch(/"msg":"shut down"/);
    expect(doneAt - t0).toBeLessThan(30_000);
  });

  it('exits 1 once shutdownTimeoutMs has passed with requests still in flight', async () => {
    const p = await startSlow({ shutdownTimeoutMs: 300 });
    // Enough queued device time that the drain cannot finish within 300 ms.
    const pending = [1, 2, 3, 4, 5, 6].map((s) => infer(p.base, s).catch(() => null));
    await inFlight(p.base, 6);
    const t = performance.now();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(1);
    const took = performance.now() - t;
    expect(p.stderr()).toMatch(/shutdown took longer than 300 ms, exiting/);
    expect(took).toBeGreaterThanOrEqual(300);
    // Not every request could finish: the bound cut the drain short.
    const results = await Promise.all(pending);
    expect(results.filter((r) => r?.status === 200).length).toBeLessThan(6);
  });
});
