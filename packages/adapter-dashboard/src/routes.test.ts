import { readFileSync } from 'node:fs';
import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { type DashboardSample, type DashboardSource, dashboardRoutes } from './index.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

/** A source with three fixed samples and call recording. */
function source(overrides: Partial<DashboardSource> = {}) {
  const calls: { since: (number | undefined)[]; limit: number[] } = { since: [], limit: [] };
  const sample = (atMs: number): DashboardSample => ({
    atMs,
    tenants: { a: { ratePerS: 5, completed: 5, meanMs: 3.2, p99Ms: 7.9, k: 4, cores: 1, inFlight: 0 } },
    tpu: { queued: 0, reloads: 0, busyFraction: 0.2 },
  });
  const all = [sample(1000), sample(2000), sample(3000)];
  const src: DashboardSource = {
    // Inclusive on purpose: the route must still never repeat the sample at `since`.
    series(since) {
      calls.since.push(since);
      return since === undefined ? all : all.filter((s) => s.atMs >= since);
    },
    tenants: () => [{ name: 'a', k: 4, cores: 1, timing: 'emulated' }],
    device: () => ({ profile: 'usb3', backend: 'emulated', capacityBytes: 8e6, holder: 'a', tenants: [] }),
    controller: () => ({ policy: 'swapless', cores: 1 }),
    history(limit) {
      calls.limit.push(limit);
      return [];
    },
    ...overrides,
  };
  return { src, calls };
}

async function app(options: Parameters<typeof dashboardRoutes>[1]): Promise<FastifyInstance> {
  const a = Fastify();
  apps.push(a);
  await dashboardRoutes(a, options);
  return a;
}

describe('dashboardRoutes: page and assets', () => {
  it('serves the page with its base path, a strict CSP, and the three shipped assets', async () => {
    const a = await app({ source: source().src });
    for (const url of ['/dashboard', '/dashboard/']) {
      const page = await a.inject({ url });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
      expect(page.headers['content-security-policy']).toContain("default-src 'none'");
      expect(page.body).toContain('<script type="module" src="/dashboard/assets/dashboard.js"></script>');
      expect(page.body).toContain('href="/dashboard/assets/dashboard.css"');
      expect(page.body).not.toContain('%BASE%');
    }
    const types: Record<string, string> = {
      'dashboard.js': 'text/javascript; charset=utf-8',
      'charts.js': 'text/javascript; charset=utf-8',
      'dashboard.css': 'text/css; charset=utf-8',
    };
    for (const [file, type] of Object.entries(types)) {
      const res = await a.inject({ url: `/dashboard/assets/${file}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe(type);
      expect(res.body).toBe(readFileSync(new URL(`../static/${file}`, import.meta.url), 'utf8'));
      // Revalidation: the same ETag gives 304 without a body.
      const again = await a.inject({
        url: `/dashboard/assets/${file}`,
        headers: { 'if-none-match': String(res.headers.etag) },
      });
      expect(again.statusCode).toBe(304);
      expect(again.body).toBe('');
    }
    const missing = await a.inject({ url: '/dashboard/assets/..%2Fpackage.json' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toBe('application/json');
    expect(missing.json().error).toMatch(/^Expected a dashboard asset name for the URL but received/);
  });

  it('loads nothing from outside: no CDN, no external fonts, no absolute URLs in any shipped file', () => {
    for (const file of ['index.html', 'dashboard.js', 'charts.js', 'dashboard.css']) {
      const text = readFileSync(new URL(`../static/${file}`, import.meta.url), 'utf8');
      // The SVG namespace is a name, not a fetch.
      const urls = [...text.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'`)]*/gi)].map((m) => m[0]);
      expect(
        urls.filter((u) => u !== 'http://www.w3.org/2000/svg'),
        file,
      ).toEqual([]);
      expect(text).not.toMatch(/@import|@font-face|fonts\.googleapis/);
    }
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.files).toContain('static');
  });

  it('mounts at a custom path and at the root', async () => {
    const custom = await app({ source: source().src, path: '/ui/live/' });
    const page = await custom.inject({ url: '/ui/live' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('src="/ui/live/assets/dashboard.js"');
    expect((await custom.inject({ url: '/ui/live/data' })).statusCode).toBe(200);
    const root = await app({ source: source().src, path: '/' });
    const rootPage = await root.inject({ url: '/' });
    expect(rootPage.statusCode).toBe(200);
    expect(rootPage.body).toContain('src="/assets/dashboard.js"');
    expect((await root.inject({ url: '/data' })).json().series).toHaveLength(3);
  });
});

describe('dashboardRoutes: data endpoint', () => {
  it('returns every part, and only samples strictly newer than since', async () => {
    const { src, calls } = source();
    const a = await app({ source: src, historyLimit: 20 });
    const all = await a.inject({ url: '/dashboard/data' });
    expect(all.statusCode).toBe(200);
    expect(all.headers['cache-control']).toBe('no-store');
    const body = all.json();
    expect(Object.keys(body).sort()).toEqual(['controller', 'device', 'history', 'now', 'series', 'tenants']);
    expect(body.series.map((s: DashboardSample) => s.atMs)).toEqual([1000, 2000, 3000]);
    expect(body.tenants[0]).toMatchObject({ name: 'a', timing: 'emulated' });
    expect(body.device).toMatchObject({ backend: 'emulated', holder: 'a' });
    expect(body.now).toBeGreaterThan(1.6e12);
    const newer = (await a.inject({ url: '/dashboard/data?since=2000&history=5' })).json();
    expect(newer.series.map((s: DashboardSample) => s.atMs)).toEqual([3000]);
    expect(calls.since).toEqual([undefined, 2000]);
    expect(calls.limit).toEqual([20, 5]);
  });

  it('answers 400 with a house-style message for a bad since or history', async () => {
    const a = await app({ source: source().src });
    const cases: [string, RegExp][] = [
      [
        'since=abc',
        /^Expected a time in epoch milliseconds \(a number ≥ 0\) for query parameter since but received "abc"$/,
      ],
      ['since=-5', /for query parameter since but received "-5"$/],
      ['since=1&since=2', /for query parameter since but received an array of length 2$/],
      ['history=0', /^Expected an integer from 1 to 1000 for query parameter history but received "0"$/],
      ['history=2.5', /for query parameter history/],
    ];
    for (const [query, message] of cases) {
      const res = await a.inject({ url: `/dashboard/data?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.json().error).toMatch(message);
    }
  });

  it('answers 503 with Retry-After when the source throws, and keeps serving afterwards', async () => {
    let fail = true;
    const { src } = source({
      tenants: () => {
        if (fail) throw new Error('the service is closing');
        return [];
      },
    });
    const a = await app({ source: src });
    const res = await a.inject({ url: '/dashboard/data' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toEqual({ error: 'Dashboard data unavailable: the service is closing' });
    fail = false;
    expect((await a.inject({ url: '/dashboard/data' })).statusCode).toBe(200);
  });

  it('rejects bad options with InvalidArgumentError', async () => {
    const bad: [unknown, RegExp][] = [
      [
        {},
        /^Expected an object with series\(\), tenants\(\), device\(\), controller\(\) and history\(\) for dashboardRoutes option source but received undefined$/,
      ],
      [{ source: { series() {} } }, /for dashboardRoutes option source/],
      [{ source: source().src, path: 'dash' }, /for dashboardRoutes option path but received "dash"$/],
      [{ source: source().src, path: '/a b' }, /option path/],
      [{ source: source().src, path: '/x"><script>' }, /option path/],
      [
        { source: source().src, historyLimit: 0 },
        /^Expected an integer from 1 to 1000 for dashboardRoutes option historyLimit but received 0$/,
      ],
    ];
    for (const [options, message] of bad) {
      const a = Fastify();
      apps.push(a);
      const error = await dashboardRoutes(a, options as never).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
      expect((error as Error).message).toMatch(message);
    }
  });
});
