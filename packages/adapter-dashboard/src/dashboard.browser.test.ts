/// <reference lib="dom" />
// The dashboard in real headless Chromium (Debian's chromium through playwright-core) over a real fastify
// instance and a real @swapless/service: two tenants on the emulated Edge TPU + the real TFLite CPU runtime, under
// live load, with a policy that moves one tenant's cut every two seconds (so the page has reconfigurations to mark).
// Screenshots go to packages/adapter-dashboard/test-artifacts/ (git-ignored); the test prints their paths.
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixedPolicy, type Policy, type PolicyContext } from '@swapless/controller';
import { createService, type Service } from '@swapless/service';
import { buildTestNet, SeededRandom, writeModel } from '@swapless/tflite';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardSource, dashboardRoutes } from './index.js';

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

/** The Chromium to drive: $SWAPLESS_CHROMIUM, else the usual Debian/Ubuntu/Google paths. Never skips. */
function chromiumPath(): string {
  const candidates = [
    process.env.SWAPLESS_CHROMIUM,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome-stable',
    '/usr/bin/google-chrome',
  ].filter((c): c is string => typeof c === 'string' && c !== '');
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) {
    throw new Error(
      `Expected a Chromium executable for the dashboard browser test but found none (looked at ${candidates.join(', ')}). ` +
        'Install it (Debian: apt-get install chromium) or set SWAPLESS_CHROMIUM to its path.',
    );
  }
  return found;
}

/** Cut of "vision" alternates between two catalogued cuts every `every` ticks; "audio" stays put. */
function alternatingPolicy(every: number): Policy {
  const near = fixedPolicy({ k: { vision: 3, audio: 6 } });
  const far = fixedPolicy({ k: { vision: 8, audio: 6 } });
  let ctx: PolicyContext | null = null;
  let ticks = 0;
  return {
    name: 'alternating',
    initial(c) {
      ctx = c;
      return near.initial(c);
    },
    onTick() {
      ticks++;
      if (ticks % every !== 0 || ctx === null) return null;
      const d = ((ticks / every) % 2 === 1 ? far : near).initial(ctx);
      return { ...d, reason: `alternate cut (tick ${ticks})` };
    },
  };
}

let service: Service;
let app: FastifyInstance;
let url: string;
let browser: Browser;
let load: NodeJS.Timeout | null = null;
let previousCache: string | undefined;

beforeAll(async () => {
  previousCache = process.env.SWAPLESS_CACHE_DIR;
  process.env.SWAPLESS_CACHE_DIR = await mkdtemp(join(tmpdir(), 'swapless-dashboard-cache-'));
  const executablePath = chromiumPath();
  service = await createService({
    cores: 2,
    tickMs: 500,
    policy: () => alternatingPolicy(4),
    profiling: { repetitions: 3, maxCuts: 6 },
  });
  await service.addTenant({
    name: 'vision',
    model: writeModel(buildTestNet(0)),
    source: 'test:net-0',
    rate: 80,
    sloMs: 15,
  });
  await service.addTenant({
    name: 'audio',
    model: writeModel(buildTestNet(7)),
    source: 'test:net-7',
    rate: 30,
  });
  const source: DashboardSource = service; // the Service satisfies the contract as it is
  app = Fastify();
  await dashboardRoutes(app, { source });
  url = await app.listen({ host: '127.0.0.1', port: 0 });

  // Live load: ~100 req/s for vision, ~40 req/s for audio (errors and rejections are the service's business).
  const x = new Int8Array(16 * 16 * 3);
  new SeededRandom(3).fillUniformInt8(x);
  let n = 0;
  load = setInterval(() => {
    n++;
    service.infer('vision', [x]).catch(() => {});
    if (n % 5 < 2) service.infer('audio', [x]).catch(() => {});
  }, 10);

  browser = await chromium.launch({
    executablePath,
    // Root in a container has no user namespace sandbox.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
});

afterAll(async () => {
  if (load !== null) clearInterval(load);
  await browser?.close();
  await app?.close();
  await service?.close();
  if (previousCache === undefined) delete process.env.SWAPLESS_CACHE_DIR;
  else process.env.SWAPLESS_CACHE_DIR = previousCache;
});

/** A page that records every console error, uncaught exception and failed or non-2xx request. */
async function openPage(
  viewport: { width: number; height: number },
  colorScheme: 'light' | 'dark' = 'light',
) {
  const page = await browser.newPage({ viewport, colorScheme });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(`${url}/dashboard`);
  return { page, problems };
}

const points = (page: Page, chart: string) =>
  page.$eval(`[data-chart="${chart}"]`, (el) => Number((el as HTMLElement).dataset.points ?? 0));

describe('dashboard in headless Chromium over a live service', () => {
  it('loads, draws every chart from live data, shows the tenants, and logs nothing wrong', async () => {
    const { page, problems } = await openPage({ width: 1440, height: 900 });
    expect(await page.title()).toBe('SwapLess · live dashboard');

    // Every chart receives data (the page polls /dashboard/data every second).
    await page.waitForFunction(
      () =>
        ['latency', 'rate', 'tpu', 'k', 'cores'].every(
          (c) => Number((document.querySelector(`[data-chart="${c}"]`) as HTMLElement).dataset.points) >= 4,
        ) && Number((document.querySelector('[data-chart="cache"]') as HTMLElement).dataset.points) === 2,
      undefined,
      { timeout: 60_000 },
    );
    // Live: later polls (with ?since=) add points.
    const before = await points(page, 'rate');
    await page.waitForFunction(
      (n) => Number((document.querySelector('[data-chart="rate"]') as HTMLElement).dataset.points) > n,
      before,
      { timeout: 30_000 },
    );
    // Latency: a mean and a p99 line per tenant.
    expect(await page.$eval('[data-chart="latency"]', (el) => (el as HTMLElement).dataset.series)).toBe('4');
    expect(await page.$$eval('[data-chart="latency"] path.series', (p) => p.length)).toBe(4);
    expect(await page.$$eval('[data-chart="latency"] path.series.dashed', (p) => p.length)).toBe(2);

    // Reconfigurations: the policy alternated vision's cut; the k chart marks them and steps between two cuts.
    await page.waitForFunction(
      () => Number((document.querySelector('[data-chart="k"]') as HTMLElement).dataset.markers) >= 3,
      undefined,
      { timeout: 30_000 },
    );
    const ks = new Set(service.series().map((s) => s.tenants.vision?.k));
    expect(ks.size).toBeGreaterThanOrEqual(2);

    // The tenant table: one row per tenant, cut k / n, and the timing label (emulated TPU part).
    const rows = await page.$$eval('#tenant-table tbody tr', (trs) =>
      trs.map((tr) => ({
        tenant: (tr as HTMLElement).dataset.tenant,
        cells: Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? ''),
      })),
    );
    expect(rows.map((r) => r.tenant)).toEqual(['vision', 'audio']);
    for (const r of rows) {
      expect(r.cells[0]).toContain(r.tenant);
      expect(r.cells[1]).toMatch(/^\d+ \/ 10$/);
      expect(r.cells[8]).toBe('emulated');
      expect(Number(r.cells[3])).toBeGreaterThan(0); // estimated rate
      expect(Number(r.cells[5])).toBeGreaterThan(0); // measured mean latency
    }
    expect(await page.textContent('#fact-timing')).toBe('TPU emulated · CPU measured');
    expect(await page.isVisible('#timing-note')).toBe(true);

    // The device cache: a bar pair per tenant with a head, the capacity line, and the holder of the token.
    const cache = await page.$eval('[data-chart="cache"]', (el) => ({
      text: el.textContent ?? '',
      holder: (el as HTMLElement).dataset.holder,
      capacity: el.querySelectorAll('line.capacity').length,
    }));
    expect(cache.text).toContain('vision');
    expect(cache.text).toContain('audio');
    expect(cache.text).toMatch(/usable SRAM \d/);
    expect(cache.capacity).toBe(1);
    const holder = service.device().holder;
    if (holder !== null) expect(['vision', 'audio']).toContain(cache.holder);

    // The decision log shows the controller's decisions, newest first.
    const log = await page.$$eval('#decision-log tbody tr', (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')),
    );
    expect(log.length).toBeGreaterThanOrEqual(3);
    expect(Number(log[0]![0])).toBeGreaterThan(Number(log[log.length - 1]![0]));
    expect(log.some((cells) => cells[7]!.startsWith('alternate cut'))).toBe(true);

    // Hover: a tooltip with every series' value at the nearest sample.
    const box = (await page.$('[data-chart="latency"] svg'))!.boundingBox();
    const b = (await box)!;
    await page.mouse.move(b.x + b.width * 0.8, b.y + b.height * 0.5);
    await page.waitForSelector('#tooltip:not([hidden])');
    expect(await page.$$eval('#tooltip .tt-row', (r) => r.length)).toBe(4);
    await page.mouse.move(0, 0);

    // A screenshot worth looking at: ten seconds of samples (20 ticks per tenant).
    await page.waitForFunction(
      () => Number((document.querySelector('[data-chart="rate"]') as HTMLElement).dataset.points) >= 40,
      undefined,
      { timeout: 60_000 },
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`dashboard screenshot: ${shot}`);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('renders in dark mode and on a narrow screen without horizontal overflow', async () => {
    const dark = await openPage({ width: 1280, height: 800 }, 'dark');
    await dark.page.waitForFunction(
      () => Number((document.querySelector('[data-chart="latency"]') as HTMLElement).dataset.points) > 0,
    );
    const bg = await dark.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(15, 20, 25)');
    const darkShot = join(ARTIFACTS, 'dashboard-dark.png');
    mkdirSync(ARTIFACTS, { recursive: true });
    await dark.page.screenshot({ path: darkShot, fullPage: true });
    console.log(`dashboard screenshot (dark): ${darkShot}`);
    expect(dark.problems).toEqual([]);
    await dark.page.close();

    const narrow = await openPage({ width: 390, height: 844 });
    await narrow.page.waitForFunction(
      () => Number((document.querySelector('[data-chart="cores"]') as HTMLElement).dataset.points) > 0,
    );
    const overflow = await narrow.page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBe(0);
    // One column: the rate chart sits below the latency chart, at full width.
    const [lat, rate] = await narrow.page.$$eval(
      ['[data-chart="latency"]', '[data-chart="rate"]'].join(','),
      (els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect),
    );
    expect(rate!.top).toBeGreaterThan(lat!.bottom);
    expect(Math.abs(rate!.width - lat!.width)).toBeLessThan(2);
    await narrow.page.screenshot({ path: join(ARTIFACTS, 'dashboard-narrow.png'), fullPage: true });
    expect(narrow.problems).toEqual([]);
    await narrow.page.close();
  });
});
