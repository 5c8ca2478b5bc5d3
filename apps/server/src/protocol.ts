/**
 * The HTTP protocol below and around the routes, in the project's error shape (`{ "error", "code" }` with exactly
 * `Content-Type: application/json`): requests node's HTTP parser refuses before fastify sees them (400, 431, 408),
 * what clients see of a shutdown (in-flight answers with `Connection: close`, late requests 503); and the
 * repository index of Triton's protocol.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { RepositoryIndexEntry } from '@swapless/adapter-kserve';
import { ErrorCodes, JSON_CONTENT_TYPE, RETRY_AFTER_S } from '@swapless/core';

/** How long a connection whose request did not parse is kept reading (and discarding) after the answer, ms. */
const LINGER_MS = 1000;

/** Sockets already answered after a parse error (node's parser reports the same error again for later data). */
const answered = new WeakSet<Socket>();

/** The status and message for an error node's HTTP parser raised. */
function describeClientError(error: { code?: string; reason?: string }, socket: Socket): [number, string] {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, `Expected request headers of at most ${maxHeaderSize} bytes in total but received more`];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'Expected chunk extensions of at most 16 KiB in total but received more'];
    case 'ERR_HTTP_REQUEST_TIMEOUT': {
      const timeout = (socket as Socket & { server?: Server }).server?.requestTimeout ?? 0;
      return [408, `Expected the whole request within ${timeout} ms but it did not arrive in time`];
    }
    default: {
      // llhttp's reasons are fixed phrases ("Invalid method encountered"); nothing of the request is echoed.
      const why = typeof error.reason === 'string' && error.reason !== '' ? `: ${error.reason}` : '';
      return [400, `Expected an HTTP/1.1 request but it does not parse (${error.code ?? 'unknown'})${why}`];
    }
  }
}

/** A whole HTTP/1.1 answer for a raw socket. */
function rawAnswer(status: number, body: string, extra = ''): string {
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: ${JSON_CONTENT_TYPE}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extra}\r\n${body}`
  );
}

/**
 * For `Fastify({ clientErrorHandler })`: a request node's HTTP parser refuses (a malformed request line or header,
 * headers over the size limit, a request that did not arrive in time) is answered in the error shape — 400, 431,
 * 413 or 408 — and the connection is closed gracefully: the answer, then FIN, then what the client still sends
 * is read and dropped for a moment, so the answer is not lost to a reset. A connection that is already gone, or
 * one whose in-flight response has started, gets no answer (nothing could be written without corrupting it).
 */
export function clientErrorHandler(error: Error & { code?: string; reason?: string }, socket: Socket): void {
  if (answered.has(socket)) return;
  answered.add(socket);
  if (error.code === 'ECONNRESET' || socket.destroyed) {
    socket.destroy();
    return;
  }
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (!socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const [status, message] = describeClientError(error, socket);
  const body = JSON.stringify({ error: message, code: error.code ?? ErrorCodes.HTTP });
  socket.end(rawAnswer(status, body));
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * The open connections of `server` (kept from now on), for {@link beginShutdown}: its TCP sockets, and for an
 * HTTPS server also the TLS sockets the HTTP exchanges run on.
 */
export function trackConnections(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  server.on('connection', track);
  server.on('secureConnection', track);
  return sockets;
}

/**
 * What clients see of a shutdown, from the moment it begins: a response still being worked on is sent with
 * `Connection: close` (the client will not send another request on that connection, and node closes it with a FIN
 * once the answer is out — no client writes into a connection the server is closing), and every request that
 * arrives from now on (on a connection that was already open: no new ones are accepted) is answered 503 in the
 * error shape with `Retry-After` and `Connection: close`, without reaching fastify. Idle connections are closed by
 * `server.close()` (fastify's `forceCloseConnections: 'idle'`).
 */
export function beginShutdown(server: Server, connections: Iterable<Socket>): void {
  for (const socket of connections) {
    // node's in-flight response of the connection (what http-terminator and node itself use).
    const response = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (response && !response.headersSent) response.setHeader('connection', 'close');
  }
  const body = Buffer.from(
    JSON.stringify({
      error: 'Expected a server that is running but it is shutting down; retry on another instance or later',
      code: ErrorCodes.SHUTTING_DOWN,
    }),
  );
  server.removeAllListeners('request');
  server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
    response.writeHead(503, {
      'content-type': JSON_CONTENT_TYPE,
      'content-length': body.length,
      'retry-after': String(RETRY_AFTER_S),
      connection: 'close',
    });
    response.end(body);
  });
}

/** What {@link repositoryIndexOf} reads from the latest repository scan. */
export interface IndexScan {
  models: readonly { name: string }[];
  pending: readonly { name: string }[];
  rejected: readonly { name: string; reason: string }[];
  skipped: readonly { name: string; code: string; message: string }[];
}

/**
 * The answer of `POST /v2/repository/index` (Triton's `$repository_index_response`): every served model (tenant)
 * as `READY` (or `UNAVAILABLE` while the server starts or stops), then every repository entry no tenant is named
 * after — `UNAVAILABLE` with the reason (not registered, which tenants serve it, refused by vetting, unreadable), or
 * `LOADING` while it is being vetted.
 */
export function repositoryIndexOf(
  scan: IndexScan,
  tenants: readonly { name: string; source: string }[],
  isReady: (name: string) => boolean,
): RepositoryIndexEntry[] {
  const entries: RepositoryIndexEntry[] = tenants.map((t) => {
    const ready = isReady(t.name);
    return {
      name: t.name,
      version: '1',
      state: ready ? 'READY' : 'UNAVAILABLE',
      reason: ready ? '' : 'not ready',
    };
  });
  const named = new Set(tenants.map((t) => t.name));
  const add = (name: string, state: RepositoryIndexEntry['state'], reason: string) => {
    if (named.has(name)) return;
    named.add(name);
    entries.push({ name, state, reason });
  };
  for (const m of scan.models) {
    const servedBy = tenants.filter((t) => t.source === `repository:${m.name}`).map((t) => t.name);
    add(
      m.name,
      'UNAVAILABLE',
      servedBy.length > 0
        ? `served as ${servedBy.join(', ')}`
        : 'not served: register a tenant for it (POST /api/v1/tenants)',
    );
  }
  for (const p of scan.pending) add(p.name, 'LOADING', 'being vetted');
  for (const r of scan.rejected) add(r.name, 'UNAVAILABLE', `refused by vetting: ${r.reason}`);
  for (const s of scan.skipped) add(s.name, 'UNAVAILABLE', `unusable (${s.code}): ${s.message}`);
  return entries;
}
