/** The dashboard routes: the page, its static assets, and the JSON data endpoint the page polls. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  expected,
  InvalidArgumentError,
  JSON_CONTENT_TYPE,
  RETRY_AFTER_S,
  SwapLessIoError,
} from '@swapless/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DashboardData, DashboardSource } from './types.js';

/** Options of {@link dashboardRoutes}. */
export interface DashboardRoutesOptions {
  /** Where the data comes from. */
  source: DashboardSource;
  /** Path of the page (default `/dashboard`); the data endpoint is `<path>/data`, assets `<path>/assets/*`. */
  path?: string;
  /** Decisions sent per poll when the query has no `history` (default 50; at most 1000). */
  historyLimit?: number;
}

/** The static files shipped in the package (`static/`), as served. */
const ASSETS: Record<string, string> = {
  'dashboard.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

// The page loads only its own files and talks only to its own origin.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PATH = /^\/(?:[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*)?\/?$/;
const MAX_HISTORY = 1000;

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function asset(body: Buffer, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** Reads the shipped files once (startup); a missing file is a broken install. */
function loadStatic(base: string): { page: Asset; assets: Map<string, Asset> } {
  const dir = new URL('../static/', import.meta.url);
  const read = (name: string): Buffer => {
    try {
      return readFileSync(new URL(name, dir));
    } catch (cause) {
      throw new SwapLessIoError(
        `Expected the dashboard file static/${name} in @swapless/adapter-dashboard but it could not be read (reinstall the package)`,
        { cause, details: { file: new URL(name, dir).pathname } },
      );
    }
  };
  // The base path goes into the page (asset URLs, data URL); PATH allows no character HTML would interpret.
  const html = read('index.html').toString('utf8').replaceAll('%BASE%', base);
  const assets = new Map<string, Asset>();
  for (const [name, type] of Object.entries(ASSETS)) assets.set(name, asset(read(name), type));
  return { page: asset(Buffer.from(html, 'utf8'), 'text/html; charset=utf-8'), assets };
}

/** `{ "error" }` with exactly `application/json` (as bytes: fastify appends a charset to a JSON string body). */
function sendError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', JSON_CONTENT_TYPE)
    .send(Buffer.from(JSON.stringify({ error: message })));
}

function sendAsset(request: FastifyRequest, reply: FastifyReply, a: Asset, extra?: Record<string, string>) {
  reply.header('content-type', a.type).header('etag', a.etag).header('cache-control', 'no-cache');
  reply.header('x-content-type-options', 'nosniff');
  for (const [k, v] of Object.entries(extra ?? {})) reply.header(k, v);
  if (request.headers['if-none-match'] === a.etag) return reply.code(304).send();
  return reply.send(a.body);
}

/**
 * Registers the dashboard on a fastify instance (directly, or as a plugin through `app.register`):
 *
 * - `GET <path>` (and `<path>/`): the page — static HTML, hand-written JS and CSS shipped in the package, read
 *   once here; no build step, no CDN, no external fonts;
 * - `GET <path>/assets/<file>`: `dashboard.js`, `charts.js`, `dashboard.css` (ETag, revalidated);
 * - `GET <path>/data?since=<epoch ms>&history=<n>`: {@link DashboardData} — series samples newer than `since`
 *   (all kept samples without it), and snapshots of tenants, device, controller and the newest `n` decisions.
 *   400 `{ error }` for a bad `since`/`history`; 503 `{ error }` when the source throws (e.g. while closing).
 *
 * @throws InvalidArgumentError (SWAPLESS_INVALID_ARGUMENT) for a bad source, path or historyLimit;
 *   SwapLessIoError (SWAPLESS_IO) when the package's static files are missing.
 */
export async function dashboardRoutes(app: FastifyInstance, options: DashboardRoutesOptions): Promise<void> {
  const source = options?.source;
  const methods = ['series', 'tenants', 'device', 'controller', 'history'] as const;
  if (
    source === null ||
    typeof source !== 'object' ||
    methods.some((m) => typeof (source as unknown as Record<string, unknown>)[m] !== 'function')
  ) {
    throw new InvalidArgumentError(
      expected(
        'an object with series(), tenants(), device(), controller() and history()',
        'dashboardRoutes option source',
        source,
      ),
    );
  }
  const path = options.path ?? '/dashboard';
  if (typeof path !== 'string' || !PATH.test(path)) {
    throw new InvalidArgumentError(
      expected(
        'a URL path such as "/dashboard" (letters, digits, ".", "_", "~", "-")',
        'dashboardRoutes option path',
        path,
      ),
    );
  }
  const historyLimit = options.historyLimit ?? 50;
  if (!Number.isInteger(historyLimit) || historyLimit < 1 || historyLimit > MAX_HISTORY) {
    throw new InvalidArgumentError(
      expected(`an integer from 1 to ${MAX_HISTORY}`, 'dashboardRoutes option historyLimit', historyLimit),
    );
  }
  const base = path.replace(/\/+$/, '');
  const { page, assets } = loadStatic(base);

  const servePage = (request: FastifyRequest, reply: FastifyReply) =>
    sendAsset(request, reply, page, { 'content-security-policy': CSP, 'referrer-policy': 'no-referrer' });
  app.get(base === '' ? '/' : base, servePage);
  if (base !== '') app.get(`${base}/`, servePage);

  app.get<{ Params: { file: string } }>(`${base}/assets/:file`, (request, reply) => {
    const a = assets.get(request.params.file);
    if (a === undefined) {
      return sendError(reply, 404, expected('a dashboard asset name', 'the URL', request.params.file));
    }
    return sendAsset(request, reply, a);
  });

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>(
    `${base}/data`,
    (request, reply) => {
      reply.header('cache-control', 'no-store');
      const q = request.query ?? {};
      let since: number | undefined;
      if (q.since !== undefined && q.since !== '') {
        since = typeof q.since === 'string' ? Number(q.since) : Number.NaN;
        if (!Number.isFinite(since) || since < 0) {
          return sendError(
            reply,
            400,
            expected('a time in epoch milliseconds (a number ≥ 0)', 'query parameter since', q.since),
          );
        }
      }
      let limit = historyLimit;
      if (q.history !== undefined && q.history !== '') {
        limit = typeof q.history === 'string' ? Number(q.history) : Number.NaN;
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY) {
          return sendError(
            reply,
            400,
            expected(`an integer from 1 to ${MAX_HISTORY}`, 'query parameter history', q.history),
          );
        }
      }
      let data: DashboardData;
      try {
        const series = source.series(since);
        data = {
          now: Date.now(),
          // Strictly newer than `since`, whatever the source's boundary, so a poll never repeats a sample.
          series: since === undefined ? series : series.filter((s) => s.atMs > since),
          tenants: source.tenants(),
          device: source.device(),
          controller: source.controller(),
          history: source.history(limit),
        };
      } catch (error) {
        request.log.warn({ err: error }, 'dashboard data unavailable');
        reply.header('retry-after', String(RETRY_AFTER_S));
        return sendError(
          reply,
          503,
          `Dashboard data unavailable: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      return reply.send(data);
    },
  );
}
