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
import { buildTestNet } from '@swapless/int8-builder';
import { createService, type Service } from '@swapless/service';
import { SeededRandom, writeModel } from '@swapless/tflite';
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

/**
 * A page that records every console error, uncaught exception and failed or non-2xx request. Its `reload` is the
 * only way tests reload it: a poll that the reload itself cancels (net::ERR_ABORTED while reloading) is the browser
 * doing its job, not a problem of the page.
 */
async function openPage(
  viewport: { width: number; height: number },
  colorScheme: 'light' | 'dark' = 'light',
  base = url,
) {
  const page = await browser.newPage({ viewport, colorScheme });
  // Waits are hang guards, not speed checks: CI runs this beside other packages' tests on two cores.
  page.setDefaultTimeout(60_000);
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  let reloading = false;
  page.on('requestfailed', (r) => {
    const error = r.failure()?.errorText;
    if (reloading && error === 'net::ERR_ABORTED') return;
    problems.push(`requestfailed: ${r.url()} ${error}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(`${base}/dashboard`);
  const reload = async () => {
    reloading = true;
    try {
      await page.reload();
    } finally {
      reloading = false;
    }
  };
  return { page, problems, reload };
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
      { timeout: 60_000 },
    );
    // Latency: a mean, a p99 and a predicted line per tenant (predicted only where the policy predicts).
    expect(await page.$eval('[data-chart="latency"]', (el) => (el as HTMLElement).dataset.series)).toBe('6');
    expect(await page.$$eval('[data-chart="latency"] path.series:not(.dotted)', (p) => p.length)).toBe(4);
    expect(await page.$$eval('[data-chart="latency"] path.series.dashed', (p) => p.length)).toBe(2);
    // Completed and refused: the service's per-tick counts of each tenant, 503s and 504s included (0 is drawn).
    const outcomes = await page.$$eval('[data-chart="outcomes"] path.series', (p) =>
      p.map((e) => (e as SVGPathElement).dataset.label),
    );
    for (const t of ['vision', 'audio']) {
      expect(outcomes).toEqual(
        expect.arrayContaining([`${t} completed`, `${t} rejected (503)`, `${t} expired (504)`]),
      );
    }

    // Reconfigurations: the policy alternated vision's cut; the k chart marks them and steps between two cuts.
    await page.waitForFunction(
      () => Number((document.querySelector('[data-chart="k"]') as HTMLElement).dataset.markers) >= 3,
      undefined,
      { timeout: 60_000 },
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
      expect(r.cells[10]).toBe('emulated');
      expect(Number(r.cells[3])).toBeGreaterThan(0); // estimated rate
      expect(Number(r.cells[5])).toBeGreaterThan(0); // measured mean latency
      expect(r.cells[13]).toBe('tpu0'); // the Edge TPU: the one device of this service
    }
    // One device: no per-device table.
    expect(await page.isVisible('#devices-wrap')).toBe(false);
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
    await page.waitForSelector('#tooltip:not([hidden])', { timeout: 60_000 });
    expect(await page.$$eval('#tooltip .tt-row', (r) => r.length)).toBe(6);
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
      undefined,
      { timeout: 60_000 },
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
      undefined,
      { timeout: 60_000 },
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

/**
 * A source whose data the test sets: the fields issue 13 adds on the service side (refusals per tick, divergence,
 * emulation lag, the emulation status) in every state the page must show, including a tenant being removed.
 */
class FixtureSource implements DashboardSource {
  samples: { atMs: number; tenants: Record<string, object>; tpu: object; devices?: object }[] = [];
  /** The device state to serve (null: one emulated usb3 device with nothing on it). */
  deviceState: object | null = null;
  tenantList: object[] = [];
  emulation: object | null = null;
  lastVerdict: object | null = null;
  /** The controller's co-compiled sets and discipline (`{}`: a service without them). */
  layout: object = {};
  decisions: object[] = [];
  readonly tickMs = 500;

  /** Appends `n` ticks ending now with per-tenant figures from `perTenant`. */
  tick(n: number, perTenant: Record<string, object>, busyFraction = 1): void {
    const end = Date.now();
    for (let i = n - 1; i >= 0; i--) {
      const atMs = end - i * this.tickMs;
      if (this.samples.length > 0 && atMs <= this.samples.at(-1)!.atMs) continue;
      this.samples.push({ atMs, tenants: perTenant, tpu: { queued: 0, reloads: 0, busyFraction } });
    }
  }

  series(sinceMs?: number) {
    return sinceMs === undefined ? this.samples : this.samples.filter((s) => s.atMs > sinceMs);
  }
  tenants() {
    return this.tenantList;
  }
  device() {
    return (
      this.deviceState ?? {
        profile: 'usb3',
        backend: 'emulated',
        capacityBytes: 8 << 20,
        holder: null,
        tenants: [],
      }
    );
  }
  controller() {
    return {
      policy: 'swapless',
      cores: 2,
      backend: 'emulated',
      emulation: this.emulation,
      lastVerdict: this.lastVerdict,
      ...this.layout,
    };
  }
  history() {
    return this.decisions;
  }
}

/** Per-tick figures of a tenant (the service's SeriesTenant shape). */
const tick = (meanMs: number, p99Ms: number, extra: object = {}) => ({
  ratePerS: 40,
  completed: 20,
  meanMs,
  p99Ms,
  k: 3,
  cores: 1,
  inFlight: 0,
  predictedMs: meanMs / 2,
  rejected: 0,
  expired: 0,
  ...extra,
});

/** A tenant row (the service's TenantStatus shape). */
const tenantRow = (name: string, meanMs: number, extra: object = {}) => ({
  name,
  source: `test:${name}`,
  ops: 10,
  k: 3,
  cores: 1,
  timing: 'emulated',
  rate: { estimatedPerS: 40 },
  predictedMs: meanMs / 2,
  measured: { count: 100, meanMs, p99Ms: meanMs * 3 },
  completed: 100,
  failed: 0,
  rejected: 0,
  inFlight: 0,
  ...extra,
});

describe('dashboard in headless Chromium: the views that show trouble (fixture data)', () => {
  const fixture = new FixtureSource();
  let fixtureApp: FastifyInstance;
  let fixtureUrl: string;

  beforeAll(async () => {
    fixture.tenantList = [
      tenantRow('vision', 40, {
        sloMs: 15,
        rejected: 12,
        expired: 3,
        divergence: { ratio: 1.6, measuredMs: 40, predictedMs: 25, sinceMs: Date.now() - 12_000 },
      }),
      tenantRow('audio', 2, {
        sloMs: null,
        divergence: { ratio: 1.1, measuredMs: 2.2, predictedMs: 2, sinceMs: null },
      }),
      tenantRow('speech', 20, { sloMs: 100 }),
    ];
    fixture.emulation = {
      lagging: false,
      laggingFraction: 0.02,
      meanLagMs: 0.1,
      meanComputeMs: 3,
      message: null,
    };
    fixture.tick(40, {
      // 4 rejected and 1 expired per 500 ms tick: 8 and 2 req/s; 20 completed: 40 req/s.
      vision: tick(40, 900, { rejected: 4, expired: 1, divergence: 1.6, emulationLagMs: 12.5 }),
      audio: tick(2, 6, { divergence: 1.1, emulationLagMs: null }),
      // No divergence or emulation fields at all (a service without them).
      speech: tick(20, 60),
    });
    fixtureApp = Fastify();
    await dashboardRoutes(fixtureApp, { source: fixture });
    fixtureUrl = await fixtureApp.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await fixtureApp?.close();
  });

  async function openFixture() {
    const opened = await openPage({ width: 1440, height: 900 }, 'light', fixtureUrl);
    await opened.page.waitForFunction(
      () => Number((document.querySelector('[data-chart="latency"]') as HTMLElement).dataset.points) > 0,
      undefined,
      { timeout: 60_000 },
    );
    return opened;
  }

  const data = (page: Page, sel: string) =>
    page.$eval(sel, (el) => ({ ...(el as HTMLElement | SVGElement).dataset }));

  it('charts 503s and 504s next to completions, per tenant, per second', async () => {
    const { page, problems } = await openFixture();
    const lines = await page.$$eval('[data-chart="outcomes"] path.series', (ps) =>
      Object.fromEntries(
        ps.map((p) => [(p as SVGPathElement).dataset.label, (p as SVGPathElement).dataset.last]),
      ),
    );
    expect(lines['vision completed']).toBe('40');
    expect(lines['vision rejected (503)']).toBe('8');
    expect(lines['vision expired (504)']).toBe('2');
    expect(lines['audio rejected (503)']).toBe('0');
    // Refusals are told apart from completions by the line style, in the chart and in its legend.
    expect(
      await page.$eval(
        '[data-chart="outcomes"] path[data-label="vision rejected (503)"]',
        (p) => p.classList.value,
      ),
    ).toContain('dashed');
    expect(
      await page.$eval(
        '[data-chart="outcomes"] path[data-label="vision expired (504)"]',
        (p) => p.classList.value,
      ),
    ).toContain('dotted');
    expect(await data(page, '[data-legend="outcomes"] [data-label="rejected 503"] svg')).toMatchObject({
      dash: 'dashed',
    });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('switches the latency axis between linear and log, and remembers the choice', async () => {
    const { page, problems, reload } = await openFixture();
    const ticks = () =>
      page.$$eval('[data-chart="latency"] svg > text[text-anchor="end"]', (ts) =>
        ts.map((t) => t.textContent ?? '').filter((v) => /^[\d.]+$/.test(v)),
      );
    expect(await data(page, '[data-chart="latency"]')).toMatchObject({ scale: 'linear', yMin: '0' });
    expect(await ticks()).toContain('0');
    const linearPath = await page.$eval('[data-chart="latency"] path[data-label="audio mean"]', (p) =>
      p.getAttribute('d'),
    );

    await page.click('#latency-log');
    // Data from 2 ms to 900 ms: whole decades 1..1000 on a log axis, no zero.
    expect(await data(page, '[data-chart="latency"]')).toMatchObject({
      scale: 'log',
      yMin: '1',
      yMax: '1000',
    });
    expect(await ticks()).toEqual(expect.arrayContaining(['1', '10', '100', '1000']));
    expect(await ticks()).not.toContain('0');
    const logPath = await page.$eval('[data-chart="latency"] path[data-label="audio mean"]', (p) =>
      p.getAttribute('d'),
    );
    expect(logPath).not.toBe(linearPath);

    // The choice survives a reload, and unticking goes back to linear.
    await reload();
    await page.waitForFunction(
      () => (document.querySelector('[data-chart="latency"]') as HTMLElement).dataset.scale === 'log',
    );
    expect(await page.isChecked('#latency-log')).toBe(true);
    await page.click('#latency-log');
    expect(await data(page, '[data-chart="latency"]')).toMatchObject({ scale: 'linear' });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('bounds the Edge TPU load axis to 0–100 %', async () => {
    const { page, problems } = await openFixture();
    // busyFraction 1 → 100 %: the axis ends at 100, no headroom above it.
    expect(await data(page, '[data-chart="tpu"]')).toMatchObject({ scale: 'linear', yMin: '0', yMax: '100' });
    const labels = await page.$$eval('[data-chart="tpu"] svg > text[text-anchor="end"]', (ts) =>
      ts.map((t) => Number(t.textContent)).filter((v) => Number.isFinite(v)),
    );
    expect(Math.max(...labels)).toBe(100);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('tells the tenants apart by point markers as well as colour, in the lines and the legends', async () => {
    const { page, problems } = await openFixture();
    const legend = await page.$$eval('[data-legend="latency"] .legend-item', (items) =>
      items.map((i) => ({
        label: (i as HTMLElement).dataset.label,
        marker: (i.querySelector('svg') as SVGElement | null)?.dataset.marker ?? '',
      })),
    );
    const tenants = legend.filter((l) => ['vision', 'audio', 'speech'].includes(l.label!));
    expect(tenants).toHaveLength(3);
    expect(new Set(tenants.map((t) => t.marker)).size).toBe(3);
    expect(tenants.every((t) => t.marker !== '')).toBe(true);
    for (const t of tenants) {
      const marks = await data(page, `[data-chart="latency"] g.marks[data-label="${t.label} mean"]`);
      expect(marks.marker).toBe(t.marker);
      expect(Number(marks.count)).toBeGreaterThan(0);
      // The same marker on every chart of that tenant.
      expect((await data(page, `[data-chart="rate"] g.marks[data-label="${t.label}"]`)).marker).toBe(
        t.marker,
      );
    }
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows SLO breaches as red rows, divergence and emulation lag per tenant, "–" where a field is absent', async () => {
    const { page, problems } = await openFixture();
    const rows = await page.$$eval('#tenant-table tbody tr', (trs) =>
      trs.map((tr) => ({
        tenant: (tr as HTMLElement).dataset.tenant,
        breach: tr.classList.contains('slo-breach'),
        background: getComputedStyle(tr).backgroundColor,
        divergence: tr.querySelector('td.divergence')?.textContent,
        diverging: tr.querySelector('td.divergence')?.classList.contains('diverging'),
        lag: tr.querySelector('td.emu-lag')?.textContent,
        slo: tr.querySelectorAll('td')[7]?.textContent,
        counts: tr.querySelectorAll('td')[12]?.textContent,
      })),
    );
    const by = Object.fromEntries(rows.map((r) => [r.tenant, r]));
    // vision: 40 ms mean against a 15 ms SLO. speech: 20 ms against 100 ms. audio: no SLO.
    expect(by.vision).toMatchObject({
      breach: true,
      divergence: '×1.60',
      diverging: true,
      lag: '12.5',
      counts: '100 · 0 · 12 · 3',
    });
    expect(by.speech).toMatchObject({ breach: false, divergence: '–', diverging: false, lag: '–' });
    expect(by.audio).toMatchObject({
      breach: false,
      divergence: '×1.10',
      diverging: false,
      lag: '–',
      slo: '–',
    });
    expect(by.vision!.background).not.toBe(by.audio!.background);
    expect(await page.getAttribute('tr[data-tenant="vision"] td.divergence', 'title')).toContain('since');
    // At a glance: the facts row names the tenant furthest from its prediction.
    expect(await page.textContent('#fact-divergence')).toBe('vision ×1.60');
    expect(await page.$eval('#fact-divergence', (e) => e.classList.contains('diverging'))).toBe(true);
    // The emulation lag chart: vision's lag; audio's null and speech's absent field draw nothing.
    const lag = await page.$$eval('[data-chart="lag"] path.series', (ps) =>
      ps.map((p) => [(p as SVGPathElement).dataset.label, (p as SVGPathElement).dataset.last]),
    );
    expect(lag).toEqual([['vision', '12.5']]);
    // Measured / predicted per tick: vision and audio, with the ±25 % band the divergence re-plan uses.
    const ratio = await page.$$eval('[data-chart="divergence"] path.series', (ps) =>
      ps.map((p) => [(p as SVGPathElement).dataset.label, (p as SVGPathElement).dataset.last]),
    );
    expect(ratio).toEqual([
      ['vision', '1.6'],
      ['audio', '1.1'],
      ['×0.75', '0.75'],
      ['×1.25', '1.25'],
    ]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('raises the emulation banner only while the emulation lags, with its message', async () => {
    const { page, problems } = await openFixture();
    expect(await page.isVisible('#emulation-banner')).toBe(false);
    expect(await page.textContent('#fact-emulation')).toBe('2 % late · 0.1 ms');

    const message =
      'The host computed 35 % of Edge TPU heads after the device finished them (mean lag 4.2 ms).';
    fixture.emulation = { lagging: true, laggingFraction: 0.35, meanLagMs: 4.2, meanComputeMs: 9, message };
    await page.waitForSelector('#emulation-banner', { state: 'visible', timeout: 60_000 });
    expect(await page.textContent('#emulation-message')).toBe(message);
    expect(await page.textContent('#fact-emulation')).toBe('35 % late · 4.20 ms');
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'dashboard-trouble.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`dashboard screenshot (trouble): ${shot}`);

    // Real device (no emulation status): no banner.
    fixture.emulation = null;
    await page.waitForSelector('#emulation-banner', { state: 'hidden', timeout: 60_000 });
    expect(await page.textContent('#fact-emulation')).toBe('–');
    expect(problems).toEqual([]);
    await page.close();
  });

  it("says what the controller's last tick weighed and why it kept or switched", async () => {
    const { page, problems } = await openFixture();
    expect(await page.textContent('#last-verdict')).toBe('Last tick: –');
    fixture.lastVerdict = {
      switch: false,
      reason: 'relative gain 0.021 < 0.03',
      currentMs: 38.3,
      candidateMs: 37.5,
      changed: ['vision', 'audio'],
      gainMs: 0.8,
      benefitMs: 40,
      costMs: 12,
      atMs: 5000,
    };
    await page.waitForFunction(
      () => (document.querySelector('#last-verdict') as HTMLElement).dataset.verdict === 'kept',
    );
    expect(await page.textContent('#last-verdict')).toBe(
      'Last tick: kept: relative gain 0.021 < 0.03 (predicted 37.5 ms for the best found against 38.3 ms in force, would move vision, audio)',
    );
    fixture.lastVerdict = {
      ...fixture.lastVerdict,
      switch: true,
      reason: 'gain exceeds cost',
      candidateMs: 30,
    };
    await page.waitForFunction(
      () => (document.querySelector('#last-verdict') as HTMLElement).dataset.verdict === 'switched',
    );
    expect(await page.textContent('#last-verdict')).toBe(
      'Last tick: switched: gain exceeds cost (predicted 30.0 ms for the best found against 38.3 ms in force)',
    );
    fixture.lastVerdict = null;
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows the co-compiled head sets and the Edge TPU discipline in force, and those of each decision', async () => {
    const { page, problems } = await openFixture();
    expect(await page.textContent('#fact-layout')).toBe('–');
    fixture.layout = { sets: [], discipline: 'fifo' };
    await page.waitForFunction(() => document.querySelector('#fact-layout')?.textContent === 'none · FIFO');
    const discipline = { kind: 'switch-aware', maxExtraWaitMs: 4.25 };
    fixture.layout = { sets: [['mic', 'cam']], discipline };
    fixture.decisions = [
      {
        seq: 1,
        atMs: Date.now(),
        trigger: 'initial',
        choices: [
          { name: 'cam', k: 31, cores: 0 },
          { name: 'mic', k: 66, cores: 0 },
        ],
        predictedMs: 3.3,
        reason: 'initial search at the prior rates',
        decisionMs: 2,
        applied: true,
        sets: [['mic', 'cam']],
        discipline,
      },
    ];
    await page.waitForFunction(
      () => document.querySelector('#fact-layout')?.textContent === 'sets mic+cam · switch-aware ≤ 4.3 ms',
    );
    await page.waitForSelector('#decision-log[data-rows="1"]');
    expect(await page.textContent('#decision-log tbody tr td:nth-child(4)')).toBe(
      'cam 31·0  mic 66·0  · sets mic+cam · switch-aware ≤ 4.3 ms',
    );
    fixture.layout = {};
    fixture.decisions = [];
    expect(problems).toEqual([]);
    await page.close();
  });

  it('drops a removed tenant from the legends and charts while its samples are still in the window', async () => {
    const { page, problems } = await openFixture();
    const legendLabels = () =>
      page.$$eval('[data-legend] .legend-item', (items) =>
        items.map((i) => (i as HTMLElement).dataset.label),
      );
    expect(await legendLabels()).toContain('speech');
    const before = Number((await data(page, '[data-chart="latency"]')).series);

    fixture.tenantList = fixture.tenantList.filter((t) => (t as { name: string }).name !== 'speech');
    const last = fixture.samples.at(-1)!.tenants;
    fixture.tick(2, { vision: last.vision!, audio: last.audio! });
    await page.waitForFunction(
      () => document.querySelectorAll('#tenant-table tbody tr').length === 2,
      undefined,
      {
        timeout: 60_000,
      },
    );
    expect(await legendLabels()).not.toContain('speech');
    expect(Number((await data(page, '[data-chart="latency"]')).series)).toBe(before - 3);
    expect(await page.$$('[data-chart] [data-label^="speech"]')).toHaveLength(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("shows each tenant's Edge TPU and, with several, each device's tenants, token holder and load", async () => {
    const saved = { tenants: fixture.tenantList, device: fixture.deviceState };
    fixture.tenantList = [
      tenantRow('vision', 40, { device: 'tpu-a' }),
      tenantRow('audio', 2, { device: 'tpu-b', pinned: true }),
    ];
    fixture.deviceState = {
      profile: 'usb3',
      backend: 'emulated',
      capacityBytes: 8 << 20,
      holder: 'vision',
      tenants: [],
      devices: [
        {
          id: 'tpu-a',
          profile: 'usb3',
          holder: 'vision',
          tenants: ['vision'],
          queued: 2,
          calls: 40,
          reloads: 0,
          busyMs: 1,
        },
        {
          id: 'tpu-b',
          profile: 'pcie',
          holder: 'audio',
          tenants: ['audio'],
          queued: 0,
          calls: 30,
          reloads: 1,
          busyMs: 1,
        },
      ],
    };
    const last = fixture.samples.at(-1)!;
    fixture.samples.push({
      atMs: last.atMs + 1,
      tenants: { vision: last.tenants.vision!, audio: last.tenants.audio! },
      tpu: { queued: 2, reloads: 1, busyFraction: 0.5 },
      devices: {
        'tpu-a': { queued: 2, reloads: 0, busyFraction: 0.75 },
        'tpu-b': { queued: 0, reloads: 1, busyFraction: 0.25 },
      },
    });
    try {
      const { page, problems } = await openFixture();
      await page.waitForFunction(
        () => document.querySelector('#device-table')?.getAttribute('data-rows') === '2',
      );
      const devices = await page.$$eval('#tenant-table tbody tr', (trs) =>
        trs.map((tr) => [(tr as HTMLElement).dataset.tenant, tr.querySelector('td.device')?.textContent]),
      );
      expect(devices).toEqual([
        ['vision', 'tpu-a'],
        ['audio', 'tpu-b 📌'],
      ]);
      expect(await page.isVisible('#devices-wrap')).toBe(true);
      const rows = await page.$$eval('#device-table tbody tr', (trs) =>
        trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)),
      );
      expect(rows).toEqual([
        ['tpu-a', 'usb3', 'vision', 'vision', '75', '2', '40 · 0'],
        ['tpu-b', 'pcie', 'audio', 'audio', '25', '0', '30 · 1'],
      ]);
      // The Edge TPU load chart: one line per device, ending at its newest busy share.
      const load = await page.$$eval('[data-chart="tpu"] path.series', (ps) =>
        ps.map((p) => [(p as SVGPathElement).dataset.label, (p as SVGPathElement).dataset.last]),
      );
      expect(load).toEqual([
        ['tpu-a busy', '75'],
        ['tpu-b busy', '25'],
      ]);
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      fixture.tenantList = saved.tenants;
      fixture.deviceState = saved.device;
    }
  });
});
