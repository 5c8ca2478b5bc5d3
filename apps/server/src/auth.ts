/**
 * Who may call which route: the server's one access policy and the bearer-token guard that enforces it. One
 * `onRequest` hook on the app's root sorts each request by its matched route's URL pattern and method into open,
 * inference, metrics or admin — by prefix, so a route added later anywhere under `/v2` or `/api/v1` is covered
 * without a list to keep up — and lets it through or answers 401/403. Nothing is installed when nothing is guarded
 * (loopback, no tokens: the server as it always was). Tokens are compared in constant time over their SHA-256 digests (so neither the content nor the
 * length of the configured token leaks through timing), are never logged and never echoed in an answer.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ForbiddenError, httpStatusOf, type SwapLessError, UnauthorizedError } from '@swapless/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

/**
 * What a route needs: `open` (nothing), `inference` (the inference token when one is set), `metrics` (the metrics
 * token when one is set) or `admin` (the admin token; a management change).
 */
export type Access = 'open' | 'inference' | 'metrics' | 'admin';

/** The realm named in `WWW-Authenticate`. */
export const AUTH_REALM = 'swapless';

/** Methods that never change anything: every other method on a management route is a change. */
const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/** Health probes stay open whatever is configured: load balancers and kubelets send no credentials. */
const PROBES: ReadonlySet<string> = new Set(['/v2/health/live', '/v2/health/ready']);

/**
 * The access class of a route of the server, by its method and URL pattern (fastify's `routeOptions.url`, e.g.
 * `/v2/models/:name/infer`). Decided by prefix so that routes added later are covered without a list to keep up:
 *
 * - `/v2/health/live`, `/v2/health/ready` → `open`;
 * - Triton's repository control (`/v2/repository/models/…` with a method other than GET/HEAD: load, unload) →
 *   `admin`;
 * - everything else under `/v2` (inference, model and server metadata, model readiness) → `inference`;
 * - under `/api/v1`, GET and HEAD → `open`; any other method (register, remove, anything that changes the
 *   controller) → `admin`;
 * - `/metrics` → `metrics`;
 * - the rest (`/`, the dashboard) → `open`.
 */
export function accessOf(method: string, url: string): Access {
  const read = READ_METHODS.has(method.toUpperCase());
  if (PROBES.has(url)) return 'open';
  if (url === '/v2' || url.startsWith('/v2/')) {
    return !read && url.startsWith('/v2/repository/models/') ? 'admin' : 'inference';
  }
  if (url === '/api/v1' || url.startsWith('/api/v1/')) return read ? 'open' : 'admin';
  if (url === '/metrics') return 'metrics';
  return 'open';
}

/** True for an address only this machine can reach: `localhost`, 127.0.0.0/8, `::1`. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  return (
    h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h)
  );
}

/** The tokens the server was started with (already read from their files), `null` for none. */
export interface AuthTokens {
  admin: string | null;
  inference: string | null;
  metrics: string | null;
}

/** What each access class requires on a running server (no secrets: safe to print and to send as JSON). */
export interface AuthSummary {
  /**
   * Management changes: `token` (the admin token), `open` (no token configured, loopback only) or `disabled`
   * (no admin token while listening beyond loopback: 403).
   */
  admin: 'token' | 'open' | 'disabled';
  /** Inference and model metadata under `/v2` (the health probes are always open). */
  inference: 'token' | 'open';
  /** `GET /metrics`. */
  metrics: 'token' | 'open';
  /** Whether the server speaks HTTPS. */
  tls: boolean;
}

/** Options of {@link installAuth}. */
export interface InstallAuthOptions {
  tokens: AuthTokens;
  /** The address the server listens on: beyond loopback without an admin token, management changes are off. */
  host: string;
  tls: boolean;
}

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/**
 * Whether `given` equals one of `accepted` (SHA-256 digests), in time that depends on neither: every digest is
 * compared, with `timingSafeEqual`, whatever matched before.
 */
function matches(given: string, accepted: readonly Buffer[]): boolean {
  const d = digest(given);
  let ok = false;
  for (const a of accepted) ok = timingSafeEqual(d, a) || ok;
  return ok;
}

/** The bearer token of an `Authorization` header, or why there is none (RFC 6750 §2.1; the scheme is case-insensitive). */
export function bearerToken(header: string | undefined): { token: string } | { missing: string } {
  if (header === undefined || header.trim() === '') return { missing: 'none' };
  const m = /^\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?:\s+(.*))?$/.exec(header);
  if (m === null) return { missing: 'a malformed Authorization header' };
  if (m[1]!.toLowerCase() !== 'bearer') {
    // Only the scheme, cut short: the rest may be a password.
    return { missing: `an Authorization header with the ${m[1]!.slice(0, 20)} scheme instead of Bearer` };
  }
  const token = (m[2] ?? '').trim();
  return token === '' ? { missing: 'an empty bearer token' } : { token };
}

function deny(reply: FastifyReply, error: SwapLessError, challenge?: string): FastifyReply {
  if (challenge !== undefined) void reply.header('www-authenticate', challenge);
  // A Buffer, so fastify sends the type exactly as set: clients that match `application/json` exactly (the KServe
  // SDK) then read the message.
  return reply
    .code(httpStatusOf(error))
    .header('content-type', 'application/json')
    .send(Buffer.from(JSON.stringify({ error: error.message, code: error.code })));
}

/** Lets the request through (`done()`) or answers it; `route` is the matched route's URL pattern. */
type Guard = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
  route: string,
) => void;

function tokenGuard(what: string, accepted: readonly Buffer[]): Guard {
  return (request, reply, done, route) => {
    const header = request.headers.authorization;
    const found = bearerToken(Array.isArray(header) ? header[0] : header);
    if ('token' in found && matches(found.token, accepted)) return done();
    const target = `${request.method} ${route}`;
    if ('token' in found) {
      request.log.debug({ route: target, reason: 'invalid-token' }, 'unauthorized request');
      return deny(
        reply,
        new UnauthorizedError(
          `Expected the ${what} token as the bearer token for ${target} but received a token that does not match`,
          { details: { reason: 'invalid-token' } },
        ),
        `Bearer realm="${AUTH_REALM}", error="invalid_token"`,
      );
    }
    request.log.debug({ route: target, reason: 'missing-token' }, 'unauthorized request');
    return deny(
      reply,
      new UnauthorizedError(
        `Expected an Authorization: Bearer <token> header with the ${what} token for ${target} but received ${found.missing}`,
        { details: { reason: 'missing-token' } },
      ),
      `Bearer realm="${AUTH_REALM}"`,
    );
  };
}

function disabledGuard(host: string): Guard {
  return (request, reply, _done, route) => {
    deny(
      reply,
      new ForbiddenError(
        `Expected an admin token to be configured for management changes such as ${request.method} ${route}, but the server listens beyond loopback (${host}) without one, so changes are disabled: set auth.adminToken in the server config or SWAPLESS_ADMIN_TOKEN (at least 16 characters, e.g. from \`openssl rand -hex 32\`), restart the server, and send it as Authorization: Bearer <token>`,
        { details: { reason: 'mutations-disabled' } },
      ),
    );
  };
}

/** What the server requires for each access class, given its tokens and address. */
export function summarizeAuth(options: InstallAuthOptions): AuthSummary {
  const { tokens } = options;
  return {
    admin: tokens.admin !== null ? 'token' : isLoopbackHost(options.host) ? 'open' : 'disabled',
    inference: tokens.inference !== null ? 'token' : 'open',
    metrics: tokens.metrics !== null ? 'token' : 'open',
    tls: options.tls,
  };
}

/**
 * Installs the access policy on `app`: one `onRequest` hook on the root, so every route — registered before or
 * after, adapters' scopes included — gets the guard its {@link accessOf} class needs (and none is installed when
 * nothing is guarded). A guarded route answers 401 with
 * `WWW-Authenticate: Bearer realm="swapless"` (and `error="invalid_token"` when a token was given but does not
 * match) unless the request carries `Authorization: Bearer <token>` with the class's token or the admin token;
 * management changes answer 403 when the server listens beyond loopback without an admin token. Bodies are
 * `{ "error", "code" }` with `SWAPLESS_UNAUTHORIZED` / `SWAPLESS_FORBIDDEN`. Returns the summary.
 */
export function installAuth(app: FastifyInstance, options: InstallAuthOptions): AuthSummary {
  const summary = summarizeAuth(options);
  const { tokens } = options;
  const admin = tokens.admin === null ? [] : [digest(tokens.admin)];
  // The admin token opens every guarded route; each other token only its own class.
  const accepted: Record<Exclude<Access, 'open' | 'admin'>, Buffer[] | null> = {
    inference: tokens.inference === null ? null : [digest(tokens.inference), ...admin],
    metrics: tokens.metrics === null ? null : [digest(tokens.metrics), ...admin],
  };
  const guards: Record<Access, Guard | null> = {
    open: null,
    admin:
      summary.admin === 'token'
        ? tokenGuard('admin', admin)
        : summary.admin === 'disabled'
          ? disabledGuard(options.host)
          : null,
    inference: accepted.inference === null ? null : tokenGuard('inference (or admin)', accepted.inference),
    metrics: accepted.metrics === null ? null : tokenGuard('metrics (or admin)', accepted.metrics),
  };
  // Nothing to enforce: no hook, no cost.
  if (Object.values(guards).every((g) => g === null)) return summary;
  // One hook on the root: it sees every route, whenever and wherever it was registered (adapters' scopes included).
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.config?.url;
    // No route matched: the not-found handler answers, and says nothing a token would protect.
    if (route === undefined) return done();
    const guard = guards[accessOf(request.method, route)];
    if (guard === null) return done();
    guard(request, reply, done, route);
  });
  return summary;
}
