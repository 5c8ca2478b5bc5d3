/**
 * The server's fastify app before any route (options chosen for the hot path and the error shape), and listening
 * on the configured address with the URLs clients use.
 */
import { frameworkErrorHandler } from '@swapless/adapter-kserve';
import { SwapLessIoError } from '@swapless/core';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { ServerUrls } from './banner.js';
import { clientErrorHandler } from './protocol.js';
import type { LoadedSecurity } from './security.js';

/** The fastify app: no request logging or ids, the routes' error shape for parser and router errors, https with `tls`. */
export function createApp(bodyLimit: number, tls: LoadedSecurity['tls'], logger: Logger): FastifyInstance {
  return Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // No per-request log lines: the hot path stays cheap; errors are logged by installErrorHandling's hook.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    // Requests that arrive while closing are answered by beginShutdown (the error shape), not fastify.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Requests node's parser refuses (400, 431, 408) in the same shape.
    clientErrorHandler,
    // Requests carry no ids worth generating on the hot path, nor a child logger of their own (fastify would
    // create one per request to bind that empty id).
    genReqId: () => '',
    childLoggerFactory: (parent) => parent,
    // Router errors (bad percent-encoding, over-long parameters) in the same `{ "error" }` shape as the routes.
    frameworkErrors: frameworkErrorHandler,
    // node's own https when the config names a certificate and key.
    ...(tls !== null ? { https: tls } : {}),
  }) as unknown as FastifyInstance;
}

/** The host clients on this machine use to reach an address the server listens on. */
function clientHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Listens on `host:port` (0: any free port) and returns the port and the URLs clients on this machine use. */
export async function listenOn(
  app: FastifyInstance,
  host: string,
  port: number,
  https: boolean,
): Promise<{ port: number; urls: ServerUrls }> {
  await app.listen({ host, port });
  const address = app.server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  const base = `${https ? 'https' : 'http'}://${clientHost(host)}:${bound}`;
  return {
    port: bound,
    urls: {
      base,
      api: `${base}/v2`,
      management: `${base}/api/v1`,
      dashboard: `${base}/dashboard`,
      metrics: `${base}/metrics`,
    },
  };
}

/** A failure to listen as the user should see it: a port in use, forbidden or not here is a typed I/O error. */
export function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    const why =
      code === 'EADDRINUSE'
        ? 'it is in use'
        : code === 'EACCES'
          ? 'permission denied'
          : 'no such address here';
    return new SwapLessIoError(
      `Expected a free port to listen on at ${host}:${port} but ${why} (${code}); choose another with --port or SWAPLESS_PORT`,
      { cause: error, details: { host, port, code } },
    );
  }
  return error;
}
