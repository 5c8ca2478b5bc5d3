/**
 * Protocol pieces every HTTP adapter shares, framework-free: the exact error content type, request bodies with a
 * `Content-Encoding` decoded as a stream under a cap on the decoded size, and the methods a path answers to (for
 * 405 with `Allow`).
 */
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { InvalidArgumentError } from './errors.js';

/**
 * The content type of every JSON error answer: exactly `application/json`, no `charset` parameter (JSON is UTF-8 by
 * definition, RFC 8259, and the KServe Python SDK compares the header with `application/json` as a whole string).
 */
export const JSON_CONTENT_TYPE = 'application/json';

/** The `Content-Encoding` values request bodies may have (`x-gzip` is read as `gzip`, `identity` as none). */
export const CONTENT_ENCODINGS: readonly string[] = Object.freeze(['gzip', 'deflate', 'br']);

/** The `Accept-Encoding` header value a 415 for an unsupported request encoding carries (RFC 7694). */
export const ACCEPT_ENCODING = CONTENT_ENCODINGS.join(', ');

/** A decoded body stream; `receivedEncodedLength` counts the encoded bytes read so far (what fastify compares with `Content-Length`). */
export interface DecodedBody extends Readable {
  receivedEncodedLength: number;
}

type Coding = 'gzip' | 'deflate' | 'br';

/**
 * The single content coding a `Content-Encoding` header names, or null for none (absent, empty or `identity`).
 *
 * @throws InvalidArgumentError (`details.reason` `unsupported-encoding`, HTTP 415) for any other coding or for
 *   more than one.
 */
export function contentCodingOf(header: string | readonly string[] | undefined): Coding | null {
  const raw = Array.isArray(header) ? header.join(',') : ((header as string | undefined) ?? '');
  const codings = raw
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return null;
  const coding = codings.length === 1 ? (codings[0] === 'x-gzip' ? 'gzip' : codings[0]!) : '';
  if (coding === 'gzip' || coding === 'deflate' || coding === 'br') return coding;
  const shown = raw.length > 60 ? `${raw.slice(0, 60)}…` : raw;
  throw new InvalidArgumentError(
    `Expected a Content-Encoding of ${CONTENT_ENCODINGS.join(', ')} or identity (one coding) for the request body but received ${JSON.stringify(shown)}`,
    { details: { reason: 'unsupported-encoding' } },
  );
}

/**
 * The request body `source` decoded by its `Content-Encoding` (`gzip`, `deflate` in its zlib format as RFC 9110
 * defines it, or `br`), as a stream; `source` itself when the header names no coding. Decoding streams: at most
 * `maxBytes` decoded bytes (plus zlib's buffer) ever exist, and as soon as the decoded body passes `maxBytes` the
 * decoder is destroyed and the stream fails with InvalidArgumentError `body-too-large` (HTTP 413) — a small
 * "zip bomb" is never inflated in full. Data that does not decode fails it with `bad-encoding` (400). Either way
 * the rest of the request is read and discarded (not decoded), so the error answer can still be sent on the
 * connection. The stream never emits an unhandled `error`: a body nobody reads cannot crash the process.
 *
 * @throws InvalidArgumentError (`unsupported-encoding`, HTTP 415) for a coding other than those, at once.
 */
export function decodeRequestBody(
  source: Readable,
  contentEncoding: string | readonly string[] | undefined,
  maxBytes: number,
): Readable {
  const coding = contentCodingOf(contentEncoding);
  if (coding === null) return source;
  const decoder =
    coding === 'gzip' ? createGunzip() : coding === 'deflate' ? createInflate() : createBrotliDecompress();
  let decoded = 0;
  const out = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      decoded += chunk.length;
      if (decoded > maxBytes) {
        callback(
          new InvalidArgumentError(
            `Expected a request body of at most ${maxBytes} bytes once decoded (Content-Encoding: ${coding}) but it decodes to more`,
            { details: { reason: 'body-too-large', limit: maxBytes } },
          ),
        );
        return;
      }
      callback(null, chunk);
    },
  }) as Transform & DecodedBody;
  out.receivedEncodedLength = 0;
  const count = (chunk: Buffer): void => {
    out.receivedEncodedLength += chunk.length;
  };
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    source.unpipe(decoder);
    source.off('data', count);
    decoder.unpipe(out);
    decoder.destroy();
    // Discard what the client still sends so the answer can go out on a healthy connection.
    source.resume();
  };
  decoder.on('error', (error: Error) => {
    stop();
    out.destroy(
      new InvalidArgumentError(
        `Expected a request body encoded as its Content-Encoding says (${coding}) but it does not decode: ${error.message}`,
        { cause: error, details: { reason: 'bad-encoding' } },
      ),
    );
  });
  // Also the listener that keeps an unread body's failure from becoming an uncaught exception.
  out.on('error', stop);
  // A client that goes away mid-upload: pipe() does not pass the source's failure on, so end the decoded stream too.
  const gone = (error?: Error): void => {
    if (stopped) return;
    stop();
    out.destroy(error ?? new Error('The request was aborted before its body was complete'));
  };
  source.once('error', gone);
  source.once('aborted', () => gone());
  source.on('data', count);
  source.pipe(decoder).pipe(out);
  return out;
}

/** What {@link decodingHook} reads of a request (fastify's request has it). */
export interface EncodedRequest {
  readonly headers: { readonly [name: string]: string | string[] | undefined };
  readonly routeOptions?: { readonly bodyLimit?: number };
}

/**
 * A fastify `preParsing` hook (callback form) that decodes gzip, deflate and br request bodies with
 * {@link decodeRequestBody}, capped once decoded at `bodyLimit` or the route's own limit when that is smaller (what
 * the body parser enforces either way, so a body it would refuse is never decoded further); a request without
 * `Content-Encoding` passes through untouched. `app.addHook('preParsing', decodingHook(limit))`.
 */
export function decodingHook(bodyLimit: number) {
  return (
    request: EncodedRequest,
    _reply: unknown,
    payload: Readable,
    done: (error: Error | null, body?: Readable) => void,
  ): void => {
    const encoding = request.headers['content-encoding'];
    if (encoding === undefined) {
      done(null, payload);
      return;
    }
    try {
      const routeLimit = request.routeOptions?.bodyLimit ?? bodyLimit;
      done(null, decodeRequestBody(payload, encoding, Math.min(routeLimit, bodyLimit)));
    } catch (error) {
      done(error as Error);
    }
  };
}

/** Every method a route can have here; `allowedMethods` reports those a path answers to. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** What {@link allowedMethods} needs from a router (fastify's instance has it). */
export interface RouteFinder {
  findRoute(options: { method: string; url: string }): unknown;
}

/**
 * The methods `url` (path and query; the query is ignored) has routes for, in a fixed order — empty when the path
 * is unknown to every method. For a 405 answer's `Allow` header when a request reached the not-found handler.
 */
export function allowedMethods(router: RouteFinder, url: string): string[] {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const allowed: string[] = [];
  for (const method of METHODS) {
    try {
      if (router.findRoute({ method, url: path }) !== null) allowed.push(method);
    } catch {
      // A path the router cannot even decode has no methods.
    }
  }
  return allowed;
}

/** The message of a 405: "Expected GET or HEAD for /v2/models/x but received DELETE". */
export function methodNotAllowedMessage(method: string, url: string, allowed: readonly string[]): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const shown = path.length > 100 ? `${path.slice(0, 100)}…` : path;
  const list =
    allowed.length === 1
      ? allowed[0]
      : `${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}`;
  return `Expected ${list} for ${JSON.stringify(shown)} but received ${method}`;
}
