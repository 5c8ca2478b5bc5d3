/** The server's graceful stop: no new connections, in-flight requests answered, then everything closed in order. */
import type { Socket } from 'node:net';
import type { Metrics } from '@swapless/adapter-prometheus';
import type { Service } from '@swapless/service';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { OutsideTime } from './client-probe.js';
import { flushLogger } from './logger.js';
import { beginShutdown } from './protocol.js';
import type { RejectionLog } from './rejections.js';
import type { RepositoryWatcher } from './repository-watcher.js';
import type { TenantState } from './state.js';

/** What a shutdown closes. */
export interface ShutdownParts {
  app: FastifyInstance;
  connections: Iterable<Socket>;
  service: Service;
  /** The server's controller-tick listener on the service. */
  onTick: () => void;
  watcher: RepositoryWatcher;
  outside: OutsideTime;
  metrics: Metrics;
  /** The saved registrations (null when the server stopped before opening them). */
  state: () => TenantState | null;
  rejections: RejectionLog;
  logger: Logger;
}

/** Stops the server; resolves when everything is closed. */
export async function shutdownServer(p: ShutdownParts): Promise<void> {
  const { app, logger } = p;
  logger.info('shutting down: no new connections, draining in-flight requests');
  const t = performance.now();
  p.watcher.close();
  // Not awaited here: between closing and beginShutdown nothing may wait, or a request answered 503 in that gap
  // would keep its connection alive.
  const outsideClosed = p.outside.close();
  // Answers in flight go out with `Connection: close`; new requests get a 503 in the error shape.
  beginShutdown(app.server, p.connections);
  // A keep-alive connection that was busy when closing began turns idle once its response is sent, and would
  // then hold app.close() up until the keep-alive timeout (72 s): close such connections as they idle.
  const reaper = setInterval(() => app.server.closeIdleConnections(), 25);
  try {
    await app.close();
  } finally {
    clearInterval(reaper);
    await p.service.close();
    p.service.off('tick', p.onTick);
    p.metrics.close();
    await p.state()?.close();
    p.rejections.flush();
    await outsideClosed;
    logger.info({ ms: Math.round(performance.now() - t) }, 'shut down');
    flushLogger(logger);
  }
}
