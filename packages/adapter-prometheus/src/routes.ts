/** The `/metrics` route on a fastify instance. */
import { expected, InvalidArgumentError } from '@swapless/core';
import type { FastifyInstance } from 'fastify';

/** What {@link metricsRoutes} needs from {@link createMetrics}'s result (structural). */
export interface MetricsExposition {
  readonly contentType: string;
  text(): Promise<string>;
}

/** Options of {@link metricsRoutes}. */
export interface MetricsRoutesOptions {
  /** The metrics to expose (from `createMetrics`). */
  metrics: MetricsExposition;
  /** Route path (default `/metrics`). */
  path?: string;
}

/**
 * Registers `GET <path>` (and HEAD) serving the Prometheus exposition text with its content type
 * (`text/plain; version=0.0.4; charset=utf-8`). Usable directly or as a fastify plugin (`app.register`).
 *
 * @throws InvalidArgumentError (SWAPLESS_INVALID_ARGUMENT) for missing metrics or a path not starting with `/`.
 */
export async function metricsRoutes(app: FastifyInstance, options: MetricsRoutesOptions): Promise<void> {
  const metrics = options?.metrics;
  if (metrics === null || typeof metrics !== 'object' || typeof metrics.text !== 'function') {
    throw new InvalidArgumentError(
      expected('the result of createMetrics()', 'metricsRoutes option metrics', metrics),
    );
  }
  const path = options.path ?? '/metrics';
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new InvalidArgumentError(expected('a path starting with "/"', 'metricsRoutes option path', path));
  }
  app.get(path, async (_request, reply) => {
    const body = await metrics.text();
    // Scrapes must see fresh values; no intermediary may cache them.
    return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(body);
  });
}
