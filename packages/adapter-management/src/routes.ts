/**
 * The SwapLess management API as a fastify plugin over any {@link ManagementBackend}: tenants (list, one,
 * register, update its device, unregister), controller status and decision history, and the models that can be registered.
 *
 * All routes live in one encapsulated scope under the prefix, with their own validator compiler (a strict ajv:
 * unknown properties are rejected, not silently removed as fastify's default ajv options would), JSON body parser,
 * error handler and not-found handler, so the rest of the app is untouched. Every non-2xx answer is
 * `{ "error": "<message>" }`, plus the stable `code` when the error is a SwapLess one and, for a model refused by
 * vetting, the `reason` (e.g. `signal SIGSEGV`).
 */
import { MODEL_NAME_PATTERN } from '@swapless/contracts';
import {
  ACCEPT_ENCODING,
  allowedMethods,
  decodingHook,
  ErrorCodes,
  expected,
  formatAjvErrors,
  httpStatusOf,
  InvalidArgumentError,
  isSwapLessError,
  JSON_CONTENT_TYPE,
  methodNotAllowedMessage,
  NotFoundError,
  RETRY_AFTER_S,
} from '@swapless/core';
import { Ajv } from 'ajv';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';

/**
 * Tenant names as a JSON Schema pattern: `MODEL_NAME_PATTERN` of `@swapless/contracts` (a letter or digit, then up
 * to 63 letters, digits, `.`, `_` or `-`).
 */
export const TENANT_NAME_PATTERN = MODEL_NAME_PATTERN.source;

/** Default and largest `limit` of `GET …/controller/history`. */
export const HISTORY_LIMIT = { default: 100, max: 10_000 } as const;

/** A registration request (`POST …/tenants`). */
export interface TenantSpec {
  /** Tenant name, {@link TENANT_NAME_PATTERN}. */
  name: string;
  /** A repository model name or a zoo model name. */
  model: string;
  /** Prior request rate, req/s (> 0). */
  rate?: number;
  /** Latency objective, ms (> 0). */
  sloMs?: number;
  /** The percentile `sloMs` bounds, `p95` or `p99` (default `p99`); only with `sloMs`. */
  sloPercentile?: 'p95' | 'p99';
  /** Id of the Edge TPU its head runs on (one of the server's `devices`); default: where the controller places it. */
  device?: string;
}

/** A change of a tenant (`PATCH …/tenants/:name`). */
export interface TenantUpdate {
  /** Move it to this Edge TPU and keep it there; null: let the controller place it again. */
  device: string | null;
}

/** The body of `GET /models` (objects are sent as they are). */
export interface ModelsListing {
  repository: string[];
  zoo: string[];
  skipped: object[];
  rejected?: object[];
  pending?: object[];
}

/** What the routes need from the service. Objects are sent as they are (JSON). */
export interface ManagementBackend {
  tenants(): object[];
  tenant(name: string): object | undefined;
  /**
   * Registers a tenant; resolves to its status. Errors map to statuses by their code (see `httpStatusOf` of
   * `@swapless/core`): a name in use is a `ConflictError` (409); a model that exists nowhere is a bad request body,
   * an `InvalidArgumentError` (400), not a `NotFoundError`.
   */
  register(spec: TenantSpec): Promise<object>;
  /** Unregisters a tenant after its in-flight requests completed. */
  unregister(name: string): Promise<void>;
  /**
   * Optional: changes a served tenant (`PATCH`; absent: 405) — moves it to another Edge TPU, live (no request is
   * lost); resolves to its status. An id that is not a device is an `InvalidArgumentError` (400).
   */
  update?(name: string, change: TenantUpdate): Promise<object>;
  /**
   * Optional: drops a tenant that is not served but is remembered for later starts (a saved registration that
   * could not be restored, e.g. its model was missing); resolves true when there was one. `DELETE` calls it for a
   * name {@link ManagementBackend.tenant} does not know before answering 404.
   */
  forget?(name: string): Promise<boolean>;
  controller(): object;
  /** The newest `limit` decisions, newest last. */
  history(limit: number): object[];
  /**
   * What can be registered: repository and zoo model names, repository entries skipped with their reason,
   * repository models refused by vetting (`rejected`, each with its reason), and repository models whose vetting
   * has not finished (`pending`).
   */
  models(): ModelsListing | Promise<ModelsListing>;
}

/** Options of {@link managementRoutes}. */
export interface ManagementRoutesOptions {
  backend: ManagementBackend;
  /** Path prefix of every route (default `/api/v1`). */
  prefix?: string;
  /** Largest request body in bytes (default 64 KiB). */
  bodyLimit?: number;
}

/** JSON Schema of a registration request. */
export const TENANT_SPEC_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'model'],
  properties: {
    name: { type: 'string', pattern: TENANT_NAME_PATTERN },
    model: { type: 'string', minLength: 1, maxLength: 4096 },
    rate: { type: 'number', exclusiveMinimum: 0, maximum: 1e6 },
    sloMs: { type: 'number', exclusiveMinimum: 0, maximum: 3.6e6 },
    sloPercentile: { enum: ['p95', 'p99'] },
    device: { type: 'string', minLength: 1, maxLength: 128 },
  },
  dependencies: { sloPercentile: ['sloMs'] },
} as const;

/** JSON Schema of a tenant change. */
export const TENANT_UPDATE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['device'],
  properties: { device: { type: ['string', 'null'], minLength: 1, maxLength: 128 } },
} as const;

const NAME_PARAMS_SCHEMA = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: TENANT_NAME_PATTERN } },
} as const;

const HISTORY_QUERY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: { type: 'integer', minimum: 1, maximum: HISTORY_LIMIT.max } },
} as const;

// Bodies are JSON with real types: no coercion. Query strings and path parameters are text: coerce numbers.
const strictAjv = new Ajv({ allErrors: true, strict: true, coerceTypes: false });
const textAjv = new Ajv({ allErrors: true, strict: true, coerceTypes: true });

const WHAT: Record<string, string> = {
  body: 'a tenant registration ({ name, model, rate?, sloMs?, sloPercentile?, device? })',
  change: 'a tenant change ({ device: string | null })',
  params: 'a valid tenant name',
  querystring: `a query string with an optional integer limit from 1 to ${HISTORY_LIMIT.max}`,
};

/**
 * The HTTP status of an error on the management routes: the project-wide table of `@swapless/core`, by the error's
 * code alone ({@link httpStatusOf}: 400 bad input — a registration naming a model that exists nowhere included —,
 * 404 `SWAPLESS_NOT_FOUND` unknown tenant, 409 `SWAPLESS_CONFLICT` duplicate tenant or no cores left, 503
 * overloaded / shutting down, a framework error's own status, else 500). The management routes add no rule of
 * their own.
 * @deprecated Use `httpStatusOf` from `@swapless/core`; this is the same function.
 */
export const managementStatusOf: (error: unknown) => number = httpStatusOf;

function sendError(reply: FastifyReply, status: number, message: string, cause?: unknown): FastifyReply {
  if (status === 503) reply.header('retry-after', String(RETRY_AFTER_S));
  else if (status === 415) reply.header('accept-encoding', ACCEPT_ENCODING);
  const body: { error: string; code?: string; reason?: string } = { error: message };
  if (isSwapLessError(cause)) {
    body.code = cause.code;
    // Why vetting refused a model, in a few words a client can branch on or show (`signal SIGSEGV`, …).
    const reason = (cause.details as { reason?: unknown }).reason;
    if (cause.code === ErrorCodes.MODEL_REJECTED && typeof reason === 'string') body.reason = reason;
  }
  // As bytes: fastify appends `; charset=utf-8` to a JSON content type of a string body.
  return reply
    .code(status)
    .header('content-type', JSON_CONTENT_TYPE)
    .send(Buffer.from(JSON.stringify(body)));
}

function notFound(name: string): NotFoundError {
  return new NotFoundError(`Expected the name of a registered tenant but received ${JSON.stringify(name)}`, {
    details: { reason: 'unknown-tenant' },
  });
}

function checkOptions(options: ManagementRoutesOptions): Required<ManagementRoutesOptions> {
  const backend = options?.backend as unknown as Record<string, unknown> | undefined;
  for (const fn of ['tenants', 'tenant', 'register', 'unregister', 'controller', 'history', 'models']) {
    if (typeof backend?.[fn] !== 'function') {
      throw new InvalidArgumentError(
        expected(`a ManagementBackend with a ${fn}() method`, 'managementRoutes options.backend', backend),
      );
    }
  }
  const prefix = options.prefix ?? '/api/v1';
  if (typeof prefix !== 'string' || !/^(\/[A-Za-z0-9._~-]+)*$/.test(prefix)) {
    throw new InvalidArgumentError(
      expected('a path prefix like /api/v1 (or "")', 'managementRoutes options.prefix', prefix),
    );
  }
  const bodyLimit = options.bodyLimit ?? 64 * 1024;
  if (!Number.isSafeInteger(bodyLimit) || bodyLimit < 1) {
    throw new InvalidArgumentError(
      expected('a positive integer number of bytes', 'managementRoutes options.bodyLimit', bodyLimit),
    );
  }
  return { backend: options.backend, prefix, bodyLimit };
}

/**
 * Adds the management API under `prefix` (default `/api/v1`):
 * `GET /tenants` → `{ tenants }`, `GET /tenants/:name`, `POST /tenants` (201 + Location),
 * `PATCH /tenants/:name` `{ device }` (when the backend has `update`), `DELETE /tenants/:name` (204), `GET /controller`, `GET /controller/history?limit=N` → `{ history }`,
 * `GET /models` → `{ repository, zoo, skipped, rejected?, pending? }`. Usable as `await managementRoutes(app, options)` or
 * `app.register(managementRoutes, options)`; the routes exist once the app is ready.
 */
export async function managementRoutes(
  app: FastifyInstance,
  options: ManagementRoutesOptions,
): Promise<void> {
  const { backend, prefix, bodyLimit } = checkOptions(options);

  app.register(
    async (api) => {
      api.setValidatorCompiler(({ schema, httpPart }) =>
        (httpPart === 'body' ? strictAjv : textAjv).compile(schema as object),
      );
      // Any content type is read as JSON, so `curl -d '{…}'` works without a Content-Type header.
      api.removeAllContentTypeParsers();
      api.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
        if (body === '') return done(null, undefined);
        try {
          done(null, JSON.parse(body as string));
        } catch (err) {
          done(
            new InvalidArgumentError(
              `Expected a JSON request body but it does not parse: ${(err as Error).message}`,
              { details: { reason: 'bad-json' } },
            ),
            undefined,
          );
        }
      });

      // gzip / deflate / br bodies are decoded as they arrive, capped at the body limit once decoded (413).
      api.addHook('preParsing', decodingHook(bodyLimit));

      api.setErrorHandler((error: FastifyError, request, reply) => {
        if (error.validation !== undefined) {
          const part = error.validationContext ?? 'body';
          const problems = formatAjvErrors(error.validation as never);
          const what = part === 'body' && request.method === 'PATCH' ? WHAT.change : WHAT[part];
          return sendError(
            reply,
            400,
            `Expected ${what ?? part} but received: ${problems.map((p) => `${part}${p}`).join('; ')}`,
          );
        }
        const status = httpStatusOf(error);
        if (status === 500) request.log.error({ err: error }, 'management request failed');
        const message =
          status === 500 && !isSwapLessError(error) ? `Internal error: ${error.message}` : error.message;
        return sendError(reply, status, message, error);
      });

      api.setNotFoundHandler((request, reply) => {
        // A known path with another method: 405 naming the methods it has.
        const allowed = allowedMethods(request.server, request.url);
        if (allowed.length > 0) {
          reply.header('allow', allowed.join(', '));
          return sendError(reply, 405, methodNotAllowedMessage(request.method, request.url, allowed));
        }
        return sendError(
          reply,
          404,
          `Expected a management route under ${prefix || '/'} but received ${request.method} ${JSON.stringify(request.url.split('?')[0])}`,
        );
      });

      type Named = { Params: { name: string } };

      api.get('/tenants', async () => ({ tenants: backend.tenants() }));

      api.get<Named>('/tenants/:name', { schema: { params: NAME_PARAMS_SCHEMA } }, async (request) => {
        const tenant = backend.tenant(request.params.name);
        if (tenant === undefined) throw notFound(request.params.name);
        return tenant;
      });

      api.post<{ Body: TenantSpec }>(
        '/tenants',
        { schema: { body: TENANT_SPEC_SCHEMA } },
        async (request, reply) => {
          // (An empty body is undefined and fails the schema: "body/: must be object".)
          const spec: TenantSpec = { ...request.body };
          const status = await backend.register(spec);
          reply.code(201).header('location', `${prefix}/tenants/${encodeURIComponent(spec.name)}`);
          return status;
        },
      );

      const update = backend.update?.bind(backend);
      if (update !== undefined) {
        api.patch<Named & { Body: TenantUpdate }>(
          '/tenants/:name',
          { schema: { params: NAME_PARAMS_SCHEMA, body: TENANT_UPDATE_SCHEMA } },
          async (request) => {
            if (backend.tenant(request.params.name) === undefined) throw notFound(request.params.name);
            return update(request.params.name, { device: request.body.device });
          },
        );
      }

      api.delete<Named>(
        '/tenants/:name',
        { schema: { params: NAME_PARAMS_SCHEMA } },
        async (request, reply) => {
          if (backend.tenant(request.params.name) === undefined) {
            if ((await backend.forget?.(request.params.name)) === true) return reply.code(204).send();
            throw notFound(request.params.name);
          }
          await backend.unregister(request.params.name);
          return reply.code(204).send();
        },
      );

      api.get('/controller', async () => backend.controller());

      api.get<{ Querystring: { limit?: number } }>(
        '/controller/history',
        { schema: { querystring: HISTORY_QUERY_SCHEMA } },
        async (request) => ({ history: backend.history(request.query.limit ?? HISTORY_LIMIT.default) }),
      );

      api.get('/models', async () => backend.models());
    },
    { prefix },
  );
}
