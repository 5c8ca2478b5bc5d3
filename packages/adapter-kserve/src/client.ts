/**
 * A small KServe v2 HTTP client on node:http (node:https for an `https://` URL) with a keep-alive Agent (not fetch:
 * one socket per concurrent request, reused, no per-request stream machinery), for the load generator, benchmarks
 * and tests; it can send a bearer token with every request. Requests can
 * be encoded once and sent many times ({@link KServeClient.encodeInfer} + {@link KServeClient.send}), so a load
 * generator measures the server rather than its own serialisation.
 */

import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ModelMetadata, NumericDatatype, TensorArray } from '@swapless/contracts';
import { describeValue, ErrorCodes, InvalidArgumentError, SwapLessError } from '@swapless/core';
import { HEADER_LENGTH_HEADER, jsonElements } from './codec.js';
import { arrayTypeOf, isNumericDatatype, type KServeDatatype, toHalfBits } from './datatypes.js';
import type { Parameters } from './types.js';

/** An HTTP request that failed: `status` is the HTTP status, or 0 when no response came (network, timeout). */
export class KServeClientError extends SwapLessError {
  /** HTTP status of the answer, 0 when there was none. */
  readonly status: number;

  constructor(message: string, status: number, options?: { cause?: unknown; url?: string }) {
    super(ErrorCodes.IO, message, {
      cause: options?.cause,
      details: { status, ...(options?.url !== undefined ? { url: options.url } : {}) },
    });
    this.status = status;
  }
}

/** One input of an inference request. */
export interface InferInput {
  name: string;
  datatype: NumericDatatype;
  shape: readonly number[];
  /**
   * A typed array holds the wire representation (FP16 as half bits in a Uint16Array, BOOL as 0/1 bytes); a plain
   * array holds values (numbers, or booleans for BOOL), row-major.
   */
  data: TensorArray | readonly number[] | readonly boolean[];
}

/** Options of one inference. */
export interface InferOptions {
  /** Send the inputs and ask for the outputs as binary tensor data (the binary extension). */
  binary?: boolean;
  /** Outputs to return, by name (default all). */
  outputs?: readonly string[];
  /** Request id, echoed by the server. */
  id?: string;
  /** Model version (default: the unversioned route). */
  version?: string;
}

/** One output of an inference response, its data as the datatype's typed array (see `arrayTypeOf`). */
export interface InferOutput {
  name: string;
  datatype: KServeDatatype;
  shape: number[];
  data: TensorArray;
}

/** A decoded `$inference_response`. */
export interface InferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Parameters;
  outputs: InferOutput[];
}

/** An inference request encoded once, to be sent any number of times with {@link KServeClient.send}. */
export interface EncodedInferRequest {
  body: Buffer;
  headers: Record<string, string>;
  /** Model version the request targets (part of the path), if any. */
  version?: string;
}

/** A raw HTTP answer. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Options of {@link KServeClient}. */
export interface KServeClientOptions {
  /** Most sockets open at once to the server (default unbounded: one per concurrent request). */
  maxSockets?: number;
  /** Per-request timeout, ms (default 30 000); a timed-out request fails with status 0. */
  timeoutMs?: number;
  /**
   * A bearer token sent as `Authorization: Bearer <token>` with every request (a SwapLess server's inference token,
   * docs/server.md "Running it safely"). Never part of an error message.
   */
  token?: string;
  /** For an `https://` URL: the CA certificate(s) (PEM) to trust instead of the system's, e.g. a self-signed one. */
  ca?: string | Buffer | readonly (string | Buffer)[];
}

function toTypedArray(datatype: NumericDatatype, data: InferInput['data']): TensorArray {
  if (ArrayBuffer.isView(data)) return data;
  const out = new (arrayTypeOf(datatype))(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number | boolean;
    if (datatype === 'BOOL') (out as Uint8Array)[i] = v ? 1 : 0;
    else if (datatype === 'FP16') (out as Uint16Array)[i] = toHalfBits(v as number);
    else if (datatype === 'INT64' || datatype === 'UINT64') (out as BigInt64Array)[i] = BigInt(v as number);
    else (out as Float64Array)[i] = v as number;
  }
  return out;
}

function fromJsonData(datatype: NumericDatatype, data: unknown): TensorArray {
  const flat = Array.isArray(data)
    ? (data.flat(Number.POSITIVE_INFINITY) as (number | boolean | null)[])
    : [];
  return toTypedArray(datatype, flat.map((v) => (v === null ? Number.NaN : v)) as number[]);
}

/**
 * Decodes an inference response (JSON, or JSON header plus binary data). Throws KServeClientError for a non-200
 * status (with the server's `error` message) or a body that is not a valid response.
 */
export function decodeInferResponse(response: RawResponse): InferResponse {
  const { status, headers, body } = response;
  if (status !== 200) {
    let message = body.toString('utf8');
    try {
      const parsed = JSON.parse(message) as { error?: unknown };
      if (typeof parsed.error === 'string') message = parsed.error;
    } catch {
      // Not JSON: keep the text.
    }
    throw new KServeClientError(`The server answered ${status}: ${message}`, status);
  }
  const raw = headers[HEADER_LENGTH_HEADER];
  const headerLength = raw === undefined ? body.length : Number(raw);
  if (!Number.isSafeInteger(headerLength) || headerLength < 0 || headerLength > body.length) {
    throw new KServeClientError(
      `Expected an Inference-Header-Content-Length from 0 to ${body.length} in the response but received ${JSON.stringify(raw)}`,
      status,
    );
  }
  let json: InferResponse & { outputs: (InferOutput & { parameters?: { binary_data_size?: number } })[] };
  try {
    json = JSON.parse(body.toString('utf8', 0, headerLength));
  } catch (err) {
    throw new KServeClientError(
      `Expected a JSON inference response but it does not parse: ${(err as Error).message}`,
      status,
      {
        cause: err,
      },
    );
  }
  let at = headerLength;
  for (const o of json.outputs ?? []) {
    if (!isNumericDatatype(o.datatype)) {
      throw new KServeClientError(
        `Expected a numeric datatype for output ${JSON.stringify(o.name)} but received ${String(o.datatype)}`,
        status,
      );
    }
    const size = o.parameters?.binary_data_size;
    if (size !== undefined) {
      const ctor = arrayTypeOf(o.datatype);
      if (at + size > body.length || size % ctor.BYTES_PER_ELEMENT !== 0) {
        throw new KServeClientError(
          `Expected ${size} bytes of binary data for output ${JSON.stringify(o.name)} but the body has ${body.length - at} left`,
          status,
        );
      }
      const out = new ctor(size / ctor.BYTES_PER_ELEMENT);
      new Uint8Array(out.buffer, out.byteOffset, size).set(body.subarray(at, at + size));
      at += size;
      o.data = out;
    } else {
      o.data = fromJsonData(o.datatype, o.data);
    }
  }
  return json;
}

/**
 * A KServe v2 client for one server. Every method resolves or rejects with {@link KServeClientError}; call
 * {@link close} when done so the keep-alive sockets do not hold the process open.
 */
export class KServeClient {
  /** The server's base URL (path prefix included, without a trailing slash). */
  readonly url: string;
  readonly #agent: Agent;
  readonly #host: string;
  readonly #port: number;
  readonly #base: string;
  readonly #timeoutMs: number;
  readonly #request: typeof httpRequest;
  readonly #auth: Record<string, string>;

  constructor(url: string | URL, options: KServeClientOptions = {}) {
    let u: URL;
    try {
      u = new URL(String(url));
    } catch (err) {
      throw new KServeClientError(
        `Expected an http:// or https:// URL for the KServe server but received ${JSON.stringify(String(url))}`,
        0,
        {
          cause: err,
        },
      );
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new KServeClientError(
        `Expected an http:// or https:// URL for the KServe server but received ${JSON.stringify(u.href)}`,
        0,
      );
    }
    const token = options.token;
    // A token that could not travel in a header (or would split it) is refused here, without echoing it.
    if (token !== undefined && (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token))) {
      const got = typeof token === 'string' ? `a string of ${token.length} characters` : describeValue(token);
      throw new InvalidArgumentError(
        `Expected a non-empty token of printable ASCII without spaces for KServeClient option token but received ${got}`,
      );
    }
    this.#auth = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const tls = u.protocol === 'https:';
    this.#request = tls ? (httpsRequest as typeof httpRequest) : httpRequest;
    this.#host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    this.#port = u.port === '' ? (tls ? 443 : 80) : Number(u.port);
    this.#base = u.pathname.replace(/\/+$/, '');
    this.url = `${u.protocol}//${u.host}${this.#base}`;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? Number.POSITIVE_INFINITY,
      noDelay: true,
    } as ConstructorParameters<typeof Agent>[0];
    this.#agent = tls
      ? (new HttpsAgent({
          ...agentOptions,
          ...(options.ca !== undefined ? { ca: options.ca as (string | Buffer)[] } : {}),
        }) as unknown as Agent)
      : new Agent(agentOptions);
  }

  /** One HTTP request; resolves with any status (only network failures and timeouts reject). */
  request(
    method: string,
    path: string,
    body?: Buffer | string,
    headers: Record<string, string> = {},
  ): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const url = `${this.url}${path}`;
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        reject(
          err instanceof KServeClientError
            ? err
            : new KServeClientError(
                `Expected an HTTP response from ${method} ${url} but the request failed: ${err.message}`,
                0,
                {
                  cause: err,
                  url,
                },
              ),
        );
      };
      const req = this.#request(
        {
          agent: this.#agent,
          host: this.#host,
          port: this.#port,
          method,
          path: `${this.#base}${path}`,
          headers:
            body === undefined
              ? { ...this.#auth, ...headers }
              : { ...this.#auth, ...headers, 'content-length': String(Buffer.byteLength(body)) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let length = 0;
          res.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            length += chunk.length;
          });
          res.on('end', () => {
            if (settled) return;
            settled = true;
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length),
            });
          });
          res.on('error', fail);
        },
      );
      req.on('error', fail);
      if (this.#timeoutMs > 0) {
        req.setTimeout(this.#timeoutMs, () =>
          req.destroy(new Error(`timed out after ${this.#timeoutMs} ms`)),
        );
      }
      req.end(body);
    });
  }

  async #getJson<T>(path: string): Promise<T> {
    const res = await this.request('GET', path);
    if (res.status !== 200) decodeInferResponse(res); // throws with the server's message
    try {
      return JSON.parse(res.body.toString('utf8')) as T;
    } catch (err) {
      throw new KServeClientError(
        `Expected JSON from GET ${this.url}${path} but it does not parse`,
        res.status,
        {
          cause: err,
        },
      );
    }
  }

  #modelPath(name: string, version?: string): string {
    const v = version === undefined ? '' : `/versions/${encodeURIComponent(version)}`;
    return `/v2/models/${encodeURIComponent(name)}${v}`;
  }

  /** `GET /v2/health/live` answered 200. */
  async live(): Promise<boolean> {
    return (await this.request('GET', '/v2/health/live')).status === 200;
  }

  /** `GET /v2/health/ready` answered 200. */
  async ready(): Promise<boolean> {
    return (await this.request('GET', '/v2/health/ready')).status === 200;
  }

  /** `GET /v2`: server name, version and extensions. */
  serverMetadata(): Promise<{ name: string; version: string; extensions: string[] }> {
    return this.#getJson('/v2');
  }

  /** `GET /v2/models/{name}[/versions/{v}]`. */
  metadata(name: string, version?: string): Promise<ModelMetadata> {
    return this.#getJson(this.#modelPath(name, version));
  }

  /** `GET /v2/models/{name}/ready` answered 200. */
  async modelReady(name: string, version?: string): Promise<boolean> {
    return (await this.request('GET', `${this.#modelPath(name, version)}/ready`)).status === 200;
  }

  /** Encodes an inference request once (JSON, or binary with `options.binary`). */
  encodeInfer(inputs: readonly InferInput[], options: InferOptions = {}): EncodedInferRequest {
    const binary = options.binary === true;
    const parts: TensorArray[] = [];
    let s = '{';
    if (options.id !== undefined) s += `"id":${JSON.stringify(options.id)},`;
    if (binary) s += '"parameters":{"binary_data_output":true},';
    s += '"inputs":[';
    inputs.forEach((input, i) => {
      if (i > 0) s += ',';
      s += `{"name":${JSON.stringify(input.name)},"shape":${JSON.stringify(input.shape)},"datatype":${JSON.stringify(input.datatype)},`;
      if (binary) {
        const data = toTypedArray(input.datatype, input.data);
        parts.push(data);
        s += `"parameters":{"binary_data_size":${data.byteLength}}}`;
      } else {
        s += ArrayBuffer.isView(input.data)
          ? `"data":[${jsonElements(input.data, input.datatype)}]}`
          : `"data":${JSON.stringify(input.data)}}`;
      }
    });
    s += ']';
    if (options.outputs !== undefined) {
      s += `,"outputs":${JSON.stringify(options.outputs.map((name) => ({ name, parameters: { binary_data: binary } })))}`;
    }
    s += '}';
    const version = options.version !== undefined ? { version: options.version } : {};
    if (!binary) {
      return { body: Buffer.from(s), headers: { 'content-type': 'application/json' }, ...version };
    }
    const headerLength = Buffer.byteLength(s);
    const total = parts.reduce((a, p) => a + p.byteLength, headerLength);
    const body = Buffer.allocUnsafe(total);
    body.write(s, 0, 'utf8');
    let at = headerLength;
    for (const p of parts) {
      body.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
      at += p.byteLength;
    }
    return {
      body,
      headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(headerLength) },
      ...version,
    };
  }

  /** Sends an encoded inference request to `POST /v2/models/{name}/infer`; resolves with the raw answer. */
  send(name: string, request: EncodedInferRequest): Promise<RawResponse> {
    return this.request(
      'POST',
      `${this.#modelPath(name, request.version)}/infer`,
      request.body,
      request.headers,
    );
  }

  /** Runs one inference; rejects with KServeClientError (status and the server's message) unless 200. */
  async infer(
    name: string,
    inputs: readonly InferInput[],
    options: InferOptions = {},
  ): Promise<InferResponse> {
    return decodeInferResponse(await this.send(name, this.encodeInfer(inputs, options)));
  }

  /** Closes the keep-alive sockets. */
  close(): void {
    this.#agent.destroy();
  }
}
