// /metrics checked by the real tool: Debian's `promtool check metrics` (package prometheus) on scrapes of a real
// server taken while inference requests are running. It exits 0 and prints nothing only when every series passes
// Prometheus's own lint (a `_total` name on a gauge, a counter without `_total`, a missing HELP… all fail it).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { buildTestNet, tinyModel } from '@swapless/int8-builder';
import { SeededRandom, writeModel } from '@swapless/tflite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from './server.js';
import { testServerConfig, useTestCache, writeTestRepository } from './test-support.js';

let server: RunningServer;
let restoreCache: () => void;

/** The promtool to run: $SWAPLESS_PROMTOOL, else `promtool` on the PATH. Never skips. */
function promtoolPath(): string {
  const fromEnv = process.env.SWAPLESS_PROMTOOL;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'promtool'))) return join(dir, 'promtool');
  }
  throw new Error(
    'Expected promtool (Prometheus) for the /metrics check but found none on the PATH. ' +
      'Install it (Debian: apt-get install --no-install-recommends prometheus) or set SWAPLESS_PROMTOOL to its path.',
  );
}

/** Runs `promtool check metrics` with `exposition` on stdin. */
function promtoolCheck(exposition: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(promtoolPath(), ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(exposition);
  });
}

beforeAll(async () => {
  const work = await mkdtemp(join(tmpdir(), 'swapless-promtool-'));
  restoreCache = useTestCache(work);
  const repo = await writeTestRepository(work, {
    testnet: writeModel(buildTestNet(3)),
    tiny: writeModel(tinyModel({ type: 'int8', shape: [1, 8] })),
  });
  server = await startServer(
    {
      ...testServerConfig(work, repo),
      logLevel: 'silent',
      tenants: [
        { name: 'net', model: 'testnet', rate: 40 },
        { name: 'tiny', model: 'tiny', rate: 10 },
      ],
    },
    { progress: false },
  );
});

afterAll(async () => {
  await server?.close();
  restoreCache();
});

describe('promtool check metrics', () => {
  it('finds the tool (a missing promtool fails this test; it never skips)', () => {
    const path = promtoolPath();
    const version = spawnSync(path, ['--version'], { encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(`${version.stdout}${version.stderr}`).toMatch(/^promtool, version \d+\./);
  });

  it('passes /metrics scraped under load: exit 0, no output', async () => {
    const x = new Int8Array(16 * 16 * 3);
    new SeededRandom(1).fillUniformInt8(x);
    const bodies = {
      net: JSON.stringify({
        inputs: [{ name: 'input', datatype: 'INT8', shape: [1, 16, 16, 3], data: Array.from(x) }],
      }),
      tiny: JSON.stringify({
        inputs: [{ name: 'x', datatype: 'INT8', shape: [1, 8], data: [1, 2, 3, 4, 5, 6, 7, 8] }],
      }),
    };
    let running = true;
    let answered = 0;
    // Eight clients in closed loops (both tenants, and one bad request now and then so errors are counted too).
    const clients = Array.from({ length: 8 }, async (_, i) => {
      const name = i % 2 === 0 ? 'net' : 'tiny';
      for (let n = 0; running; n++) {
        const body = n % 25 === 24 ? '{"inputs": 1}' : bodies[name];
        const res = await fetch(`${server.urls.api}/models/${name}/infer`, { method: 'POST', body });
        await res.arrayBuffer();
        answered++;
      }
    });
    const scrapes: { text: string; inFlight: number }[] = [];
    try {
      while (answered < 50) await new Promise((r) => setTimeout(r, 10));
      for (let i = 0; i < 3; i++) {
        const inFlight = server.service.tenants().reduce((a, t) => a + t.inFlight, 0);
        const res = await fetch(server.urls.metrics);
        expect(res.status).toBe(200);
        scrapes.push({ text: await res.text(), inFlight });
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      running = false;
      await Promise.all(clients);
    }
    // Taken under load: requests were in flight while scraping, and the request series are populated.
    expect(scrapes.some((s) => s.inFlight > 0)).toBe(true);
    const last = scrapes[scrapes.length - 1]!.text;
    expect(last).toMatch(/\nswapless_requests_total\{tenant="net",outcome="ok"\} [1-9]\d*\n/);
    expect(last).toMatch(
      /\nswapless_request_duration_seconds_bucket\{tenant="tiny",timing="\w+",le="120"\} [1-9]/,
    );
    expect(last).toMatch(/\nnodejs_heap_size_used_bytes \d+/);
    for (const { text } of scrapes) {
      const { code, output } = await promtoolCheck(text);
      expect(output.split('\n').filter((l) => l.trim() !== '')).toEqual([]);
      expect(code).toBe(0);
    }
  });

  it('would fail on a gauge named like a counter (the check is real)', async () => {
    const bad = '# HELP x_active_total Active things.\n# TYPE x_active_total gauge\nx_active_total 3\n';
    const { code, output } = await promtoolCheck(bad);
    expect(code).not.toBe(0);
    expect(output).toMatch(/x_active_total/);
  });
});
