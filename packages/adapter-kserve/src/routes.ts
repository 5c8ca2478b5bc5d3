/**
 * The KServe v2 (Open Inference Protocol) HTTP routes as a fastify plugin, over any {@link InferenceBackend}.
 *
 * Everything lives in one encapsulated scope under `/v2`, so its body parser, error handler and not-found
 * handler apply to these routes only and leave the rest of the app alone. The scope takes every request body as
 * raw bytes (any content type, so `curl -d @body.json` works without a header) and parses it itself: JSON, or a
 * JSON header plus binary tensor data when `Inference-Header-Content-Length` is present. Validation is one
 * precompiled ajv function plus the copy into typed arrays (see codec.ts).
 */

import { MODEL_NAME_PATTERN, type ModelMetadata } from '@swapless/contracts';
import {
  ACCEPT_ENCODING,
  allowedMethods,
  decodingHook,
  expected,
  InvalidArgumentError,
  isSwapLessError,
  JSON_CONTENT_TYPE,
  methodNotAllowedMessage,
  NotFoundError,
} from '@swapless/core';
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import {
  decodeInferRequest,
  encodeInferResponse,
  HEADER_LENGTH_HEADER,
  type ModelPlan,
  parseInferBody,
  planOf,
} from './codec.js';
import type { InferenceRequestJson } from './schema.js';
import { httpStatusOf, RETRY_AFTER_S, retryAfterOf } from './status.js';
import { modelConfigOf, parseIndexRequest, StatisticsTable, servedIndex } from './triton.js';
import type { InferenceBackend } from './types.js';

/** Largest `POST /v2/repository/index` body (it is `{}` or `{"ready": true}`). */
const INDEX_BODY_LIMIT = 4096;

/** Default limit of an inference request body: 64 MiB. */
export const DEFAULT_BODY_LIMIT = 64 * 1024 * 1024;

/**
 * The protocol extensions these routes implement (reported by `GET /v2`): Triton's binary tensor data, model
 * configuration and statistics. (`POST /v2/repository/index` is answered too, but the model repository extension
 * also asks for load and unload, which are the management API's registrations here, so it is not claimed.)
 */
export const KSERVE_EXTENSIONS = ['binary_tensor_data', 'model_configuration', 'statistics'] as const;

const VERSION = '0.1.0';
/** Successful JSON answers: fastify's own content type for JSON text (errors use exactly `application/json`). */
const JSON_TYPE = 'application/json; charset=utf-8';
const EMPTY = Buffer.alloc(0);

/** Options of {@link kserveRoutes}. */
export interface KServeRoutesOptions {
  /** What serves the models. */
  backend: InferenceBackend;
  /** `name` of `GET /v2` (default `swapless`). */
  serverName?: string;
  /** `version` of `GET /v2` (default this package's version). */
  serverVersion?: string;
  /** Largest inference request body in bytes (default {@link DEFAULT_BODY_LIMIT}); larger ones get 413. */
  bodyLimit?: number;
  /**
   * Deadline of an inference request, ms after it arrived (default: none). A request's `parameters.timeout`
   * (µs, Triton's schedule-policy convention) may shorten it, never lengthen it. The backend receives the
   * result as `infer(…, { deadlineMs })`; a backend with `admit` is asked before the body is read, so a request
   * whose deadline is already out of reach is refused (503) without being parsed.
   */
  deadlineMs?: number;
}

type Params = { name: string; version?: string };

/** A request of these routes: when it arrived (set by an `onRequest` hook of the inference routes). */
type TimedRequest = FastifyRequest & { swaplessArrivalMs: number };

function checkOptions(
  options: KServeRoutesOptions,
): Required<Omit<KServeRoutesOptions, 'deadlineMs'>> & { deadlineMs: number | undefined } {
  const backend = options?.backend as unknown as Record<string, unknown> | undefined;
  for (const fn of ['isLive', 'isReady', 'modelNames', 'modelMetadata', 'isModelReady', 'infer']) {
    if (typeof backend?.[fn] !== 'function') {
      throw new InvalidArgumentError(
        expected(`an InferenceBackend with a ${fn}() method`, 'kserveRoutes options.backend', backend),
      );
    }
  }
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  if (!Number.isSafeInteger(bodyLimit) || bodyLimit < 1) {
    throw new InvalidArgumentError(
      expected('a positive integer number of bytes', 'kserveRoutes options.bodyLimit', bodyLimit),
    );
  }
  const deadlineMs = options.deadlineMs;
  if (
    deadlineMs !== undefined &&
    !(typeof deadlineMs === 'number' && deadlineMs > 0 && deadlineMs < Infinity)
  ) {
    throw new InvalidArgumentError(
      expected('a positive finite number of ms', 'kserveRoutes options.deadlineMs', deadlineMs),
    );
  }
  return {
    backend: options.backend,
    serverName: options.serverName ?? 'swapless',
    serverVersion: options.serverVersion ?? VERSION,
    bodyLimit,
    deadlineMs,
  };
}

function describeName(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}

function sendError(
  reply: FastifyReply,
  status: number,
  message: string,
  retryAfterS = RETRY_AFTER_S,
): FastifyReply {
  if (status === 503) reply.header('retry-after', String(retryAfterS));
  // RFC 7694: a 415 for the request's Content-Encoding says which codings would do.
  else if (status === 415) reply.header('accept-encoding', ACCEPT_ENCODING);
  // As bytes: fastify appends `; charset=utf-8` to a JSON content type of a string body.
  return reply
    .code(status)
    .header('content-type', JSON_CONTENT_TYPE)
    .send(Buffer.from(JSON.stringify({ error: message })));
}

/**
 * For a not-found handler: when the path exists for other methods, answers 405 with `Allow` (and returns true);
 * else leaves the reply alone (false).
 */
function sendMethodNotAllowed(request: FastifyRequest, reply: FastifyReply): boolean {
  const allowed = allowedMethods(request.server, request.url);
  if (allowed.length === 0) return false;
  reply.header('allow', allowed.join(', '));
  sendError(reply, 405, methodNotAllowedMessage(request.method, request.url, allowed));
  return true;
}

function errorMessage(error: FastifyError, request: FastifyRequest, bodyLimit: number): string {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const length = request.headers['content-length'];
    return `Expected a request body of at most ${bodyLimit} bytes for ${request.method} ${request.url.split('?')[0]} but received ${length !== undefined ? `${length} bytes` : 'more'}`;
  }
  return error.message;
}

/**
 * For `Fastify({ frameworkErrors })`: errors the router raises before any route runs (a malformed percent
 * encoding → 400, a path parameter longer than `maxParamLength` → 414) answered with the same
 * `{ "error": "<message>" }` shape as the routes (fastify's default body has extra fields).
 */
export function frameworkErrorHandler(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 400;
  sendError(reply, status, error.message);
}

/**
 * Adds the KServe v2 routes under `/v2` to `app`: `GET /v2/health/live`, `GET /v2/health/ready`, `GET /v2`,
 * `GET /v2/models/{name}[/versions/{v}]`, `GET /v2/models/{name}[/versions/{v}]/ready` and
 * `POST /v2/models/{name}[/versions/{v}]/infer` (JSON and binary tensor data), and Triton's
 * `GET /v2/models/{name}[/versions/{v}]/config`, `GET /v2/models[/{name}[/versions/{v}]]/stats` and
 * `POST /v2/repository/index`. Request bodies may be gzip, deflate or br encoded (`Content-Encoding`). Every
 * non-2xx answer is `{ "error": "<message>" }` with `Content-Type: application/json`: 400 bad request, 404 unknown
 * model/version/route, 405 a known path with another method (with `Allow`), 413 body too large (also once
 * decoded), 415 an unsupported `Content-Encoding`, 503 not ready / overloaded / shutting down (with
 * `Retry-After`), 500 otherwise. Usable as `await kserveRoutes(app,
 * options)` or `app.register(kserveRoutes, options)`; the routes exist once the app is ready.
 */
export async function kserveRoutes(app: FastifyInstance, options: KServeRoutesOptions): Promise<void> {
  const { backend, serverName, serverVersion, bodyLimit, deadlineMs } = checkOptions(options);
  const onInferRequest = admissionHook(backend, deadlineMs);
  const lookup = (name: string, version: string | undefined): ModelPlan => modelPlan(backend, name, version);

  const metadata = async (request: FastifyRequest<{ Params: Params }>) => {
    const { meta } = lookup(request.params.name, request.params.version);
    return {
      name: meta.name,
      versions: meta.versions,
      platform: meta.platform,
      inputs: meta.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
      outputs: meta.outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
    };
  };

  const modelReady = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const { meta } = lookup(request.params.name, request.params.version);
    if (!backend.isModelReady(meta.name)) {
      return sendError(reply, 503, `Model ${describeName(meta.name)} is not ready`);
    }
    return { name: meta.name, ready: true };
  };

  const statistics = new StatisticsTable();

  const infer = inferHandler(backend, lookup, statistics, deadlineMs);

  const config = async (request: FastifyRequest<{ Params: Params }>) =>
    modelConfigOf(lookup(request.params.name, request.params.version).meta);

  const served = (): ModelMetadata[] => {
    const all: ModelMetadata[] = [];
    for (const name of backend.modelNames()) {
      const meta = backend.modelMetadata(name);
      if (meta !== undefined) all.push(meta);
    }
    return all;
  };
  const stats = async (request: FastifyRequest<{ Params: Partial<Params> }>) => {
    const { name, version } = request.params;
    const models = name === undefined ? served() : [lookup(name, version).meta];
    return { model_stats: statistics.report(models) };
  };

  const index = indexHandler(backend);

  app.register(
    async (v2) => {
      prepareScope(v2, bodyLimit);

      v2.get('/health/live', async (_request, reply) =>
        backend.isLive() ? { live: true } : sendError(reply, 503, 'The server is not live'),
      );
      v2.get('/health/ready', async (_request, reply) =>
        backend.isReady() ? { ready: true } : sendError(reply, 503, 'The server is not ready'),
      );
      v2.get('/', async () => ({
        name: serverName,
        version: serverVersion,
        extensions: [...KSERVE_EXTENSIONS],
      }));
      v2.get<{ Params: Params }>('/models/:name', metadata);
      v2.get<{ Params: Params }>('/models/:name/versions/:version', metadata);
      v2.get<{ Params: Params }>('/models/:name/ready', modelReady);
      v2.get<{ Params: Params }>('/models/:name/versions/:version/ready', modelReady);
      v2.post<{ Params: Params }>('/models/:name/infer', { bodyLimit, onRequest: onInferRequest }, infer);
      v2.post<{ Params: Params }>(
        '/models/:name/versions/:version/infer',
        { bodyLimit, onRequest: onInferRequest },
        infer,
      );
      v2.get<{ Params: Params }>('/models/:name/config', config);
      v2.get<{ Params: Params }>('/models/:name/versions/:version/config', config);
      v2.get('/models/stats', stats);
      v2.get<{ Params: Params }>('/models/:name/stats', stats);
      v2.get<{ Params: Params }>('/models/:name/versions/:version/stats', stats);
      v2.post('/repository/index', { bodyLimit: INDEX_BODY_LIMIT }, index);
    },
    { prefix: '/v2' },
  );
}

/**
 * The infer route: decodes the request against the model's plan, runs it on the backend (with the request's
 * deadline), encodes the answer as JSON or binary, and keeps the model's statistics (a failure counts too).
 */
function inferHandler(
  backend: InferenceBackend,
  lookup: (name: string, version: string | undefined) => ModelPlan,
  statistics: StatisticsTable,
  deadlineMs: number | undefined,
) {
  return async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const t0 = performance.now();
    const plan = lookup(request.params.name, request.params.version);
    const name = plan.meta.name;
    const stats = statistics.of(plan.meta);
    try {
      if (!backend.isModelReady(name)) {
        stats.fail(performance.now() - t0);
        return sendError(reply, 503, `Model ${describeName(name)} is not ready`);
      }
      const { json, binary } = parseInferBody(
        (request.body as Buffer | undefined) ?? EMPTY,
        request.headers[HEADER_LENGTH_HEADER],
      );
      const decoded = decodeInferRequest(plan, json, binary);
      const deadline = deadlineOf(request, json, deadlineMs);
      const t1 = performance.now();
      const result = await backend.infer(
        name,
        decoded.inputs,
        deadline === undefined ? undefined : { deadlineMs: deadline },
      );
      const t2 = performance.now();
      const encoded = encodeInferResponse(plan, decoded, result);
      const t3 = performance.now();
      const d = result.durations;
      stats.success(t3 - t0, t1 - t0, d?.queueMs ?? 0, d?.inferMs ?? t2 - t1, t3 - t2);
      const onServed = backend.onServed;
      if (onServed !== undefined) {
        // Told once the response has been handed to the socket: writing it is the server's time too.
        const arrival = (request as TimedRequest).swaplessArrivalMs || t0;
        reply.raw.once('finish', () => {
          try {
            onServed.call(backend, name, performance.now() - arrival, result);
          } catch {
            // A backend's bookkeeping must not fail a request that succeeded.
          }
        });
      }
      if (encoded.kind === 'json') {
        reply.header('content-type', JSON_TYPE);
        return encoded.body;
      }
      reply.header(HEADER_LENGTH_HEADER, String(encoded.headerLength));
      reply.header('content-type', 'application/octet-stream');
      return encoded.body;
    } catch (error) {
      stats.fail(performance.now() - t0);
      throw error;
    }
  };
}

/** The repository index route: the backend's own index, else the served models; `ready` keeps the READY ones. */
function indexHandler(backend: InferenceBackend) {
  return async (request: FastifyRequest) => {
    const { ready } = parseIndexRequest((request.body as Buffer | undefined) ?? EMPTY);
    const entries =
      backend.repositoryIndex !== undefined
        ? await backend.repositoryIndex()
        : servedIndex(
            backend.modelNames(),
            (n) => backend.modelMetadata(n),
            (n) => backend.isModelReady(n),
          );
    return ready ? entries.filter((e) => e.state === 'READY') : entries;
  };
}

/**
 * Runs before the body is read: notes the arrival, and refuses at once a request that could not meet even
 * the default deadline (a request's own timeout can only shorten it), so overload costs no body parsing.
 */
function admissionHook(
  backend: InferenceBackend,
  deadlineMs: number | undefined,
): (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void {
  const admit = backend.admit;
  return (request, _reply, done) => {
    const now = performance.now();
    (request as TimedRequest).swaplessArrivalMs = now;
    if (admit !== undefined && deadlineMs !== undefined) {
      const name = (request.params as Params).name;
      try {
        if (backend.isModelReady(name)) admit.call(backend, name, now + deadlineMs);
      } catch (error) {
        done(error as Error);
        return;
      }
    }
    done();
  };
}

/** The request's deadline: the default after its arrival, shortened by `parameters.timeout` (µs; 0: none). */
function deadlineOf(
  request: FastifyRequest,
  json: InferenceRequestJson,
  deadlineMs: number | undefined,
): number | undefined {
  const arrival = (request as TimedRequest).swaplessArrivalMs;
  let deadline = deadlineMs === undefined ? Number.POSITIVE_INFINITY : arrival + deadlineMs;
  const timeoutUs = json.parameters?.timeout;
  if (timeoutUs !== undefined && timeoutUs > 0) deadline = Math.min(deadline, arrival + timeoutUs / 1000);
  return deadline === Number.POSITIVE_INFINITY ? undefined : deadline;
}

/** The plan of a served model and version; a malformed name is a bad request, an unknown one not found. */
function modelPlan(backend: InferenceBackend, name: string, version: string | undefined): ModelPlan {
  const meta: ModelMetadata | undefined = backend.modelMetadata(name);
  if (meta === undefined) {
    if (!MODEL_NAME_PATTERN.test(name)) {
      throw new InvalidArgumentError(
        `Expected a model name matching ${MODEL_NAME_PATTERN.source} but received ${describeName(name)}`,
        { details: { reason: 'model-name' } },
      );
    }
    const names = backend.modelNames();
    const list = names.length > 10 ? `${names.slice(0, 10).join(', ')}, …` : names.join(', ');
    throw new NotFoundError(
      `Expected one of the served models (${list || 'none'}) but received ${describeName(name)}`,
      { details: { reason: 'unknown-model' } },
    );
  }
  if (version !== undefined && !meta.versions.includes(version)) {
    throw new NotFoundError(
      `Expected a version of model ${describeName(name)} (${meta.versions.join(', ')}) but received ${describeName(version)}`,
      { details: { reason: 'unknown-model' } },
    );
  }
  return planOf(meta);
}

/** The `/v2` scope's body parsing, decoding, error and not-found handling. */
function prepareScope(v2: FastifyInstance, bodyLimit: number): void {
  // Raw bytes for every content type (and none): the handler tells JSON from the binary extension.
  v2.removeAllContentTypeParsers();
  v2.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
  // gzip / deflate / br bodies are decoded as they arrive, capped at the body limit once decoded (413).
  v2.addHook('preParsing', decodingHook(bodyLimit));

  v2.decorateRequest('swaplessArrivalMs', 0);

  v2.setErrorHandler((error: FastifyError, request, reply) => {
    const status = httpStatusOf(error);
    // Expected refusals (503 overloaded or shutting down, 504 deadline) are not logged here, one line per
    // request: under overload they would be most of the log. The server counts them instead.
    if (status >= 500 && status !== 503 && status !== 504)
      request.log.error({ err: error }, 'kserve request failed');
    const message =
      status === 500 && !isSwapLessError(error)
        ? `Internal error: ${error.message}`
        : errorMessage(error, request, request.routeOptions.bodyLimit ?? bodyLimit);
    return sendError(reply, status, message, retryAfterOf(error));
  });

  v2.setNotFoundHandler((request, reply) => {
    if (sendMethodNotAllowed(request, reply)) return reply;
    return sendError(
      reply,
      404,
      `Expected a KServe v2 route (see GET /v2) but received ${request.method} ${describeName(request.url.split('?')[0] ?? '')}`,
    );
  });
}
