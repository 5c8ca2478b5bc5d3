import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startClientProbe } from './client-probe.js';

/** A real HTTP server whose /v2/health/live answers `status` after `delayMs`; counts the probes it saw. */
async function healthServer(
  delayMs: number,
  status = 200,
): Promise<{ server: Server; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    if (req.url !== '/v2/health/live') {
      res.writeHead(404).end();
      return;
    }
    hits++;
    setTimeout(
      () => res.writeHead(status, { 'content-type': 'application/json' }).end('{"live":true}'),
      delayMs,
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, hits: () => hits };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('client probe', () => {
  it("times a client's round trips from its own thread, one at a time, and stops when closed", async () => {
    const h = await healthServer(30);
    servers.push(h.server);
    const probe = startClientProbe(h.url, 10);
    try {
      const until = performance.now() + 10_000;
      while (h.hits() < 4 && performance.now() < until) await sleep(20);
      await sleep(60);
      const mean = probe.take();
      // Each round trip includes the server's 30 ms; one at a time, so never fewer than 30 ms on average.
      expect(mean).not.toBeNull();
      expect(mean!).toBeGreaterThanOrEqual(29);
      expect(mean!).toBeLessThan(5_000);
      // take() starts anew.
      expect(probe.take()).toBeNull();
    } finally {
      await probe.close();
    }
    const after = h.hits();
    await sleep(150);
    expect(h.hits()).toBe(after);
    // Closing twice is fine.
    await probe.close();
  });

  it('does not count answers other than 200 (a server shutting down answers 503)', async () => {
    const h = await healthServer(0, 503);
    servers.push(h.server);
    const probe = startClientProbe(h.url, 5);
    try {
      const until = performance.now() + 10_000;
      while (h.hits() < 3 && performance.now() < until) await sleep(20);
      expect(h.hits()).toBeGreaterThanOrEqual(3);
      expect(probe.take()).toBeNull();
    } finally {
      await probe.close();
    }
  });

  it('keeps probing after the server was unreachable for a while', async () => {
    const h = await healthServer(0);
    const { port } = h.server.address() as AddressInfo;
    h.server.close();
    await once(h.server, 'close');
    const probe = startClientProbe(h.url, 5);
    try {
      await sleep(100);
      expect(probe.take()).toBeNull();
      // The same port again: the probe's next attempts reach it.
      const again = createServer((_req, res) => res.end('{}'));
      servers.push(again);
      again.listen(port, '127.0.0.1');
      await once(again, 'listening');
      const until = performance.now() + 10_000;
      let mean: number | null = null;
      while (mean === null && performance.now() < until) {
        await sleep(30);
        mean = probe.take();
      }
      expect(mean).not.toBeNull();
    } finally {
      await probe.close();
    }
  });
});
