/**
 * The demo load for this host (demo-load.ts, sized by demo-costs.ts) as the server keeps and serves it: re-sized
 * when the tenants changed, written to the state directory, served at {@link DEMO_LOAD_ROUTE}.
 */
import { join } from 'node:path';
import { NotFoundError, writeFileAtomic } from '@swapless/core';
import type { Service } from '@swapless/service';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { demoLoadOf } from './demo-costs.js';
import { DEMO_LOAD_FILE, DEMO_LOAD_ROUTE, type DemoLoad } from './demo-load.js';

/** What the demo load needs from the server around it. */
export interface DemoLoadOptions {
  service: Service;
  /** The config's `examples` (off: no demo load). */
  enabled: boolean;
  stateDir: string;
  logger: Logger;
  /** The server's tenants have been started. */
  ready: () => boolean;
}

/** The demo load of the served tenants. */
export class DemoLoadRoute {
  readonly #o: DemoLoadOptions;
  #load: DemoLoad | null = null;

  constructor(options: DemoLoadOptions) {
    this.#o = options;
  }

  /** The load as last sized (null before, or without tenants). */
  get current(): DemoLoad | null {
    return this.#load;
  }

  /** The load for the tenants served now: re-sized (and written) when they changed since. */
  async refresh(): Promise<DemoLoad | null> {
    const { service, stateDir, logger } = this.#o;
    const names = service.tenantNames().join('\n');
    if (this.#load !== null && this.#load.workload.tenants.map((t) => t.name).join('\n') === names)
      return this.#load;
    this.#load = demoLoadOf(service, service.controller().device);
    if (this.#load !== null) {
      await writeFileAtomic(
        join(stateDir, DEMO_LOAD_FILE),
        `${JSON.stringify(this.#load.workload, null, 2)}\n`,
      ).catch((error: unknown) => logger.warn({ err: error }, 'could not write the demo load'));
    }
    return this.#load;
  }

  /** Sizes the load once the server is ready and logs it (with the step the controller is predicted to take). */
  async sizeAtStartup(): Promise<void> {
    if (!this.#o.enabled) return;
    const load = await this.refresh();
    if (load === null) return;
    this.#o.logger.info(
      {
        rates: load.workload.tenants.map((t) => [t.name, t.rate]),
        phases: load.sizing.phases,
        // What the controller is predicted to do at the step (demo-step.ts).
        step: load.sizing.step,
      },
      'demo load sized for this host',
    );
  }

  /** `GET /examples/demo-load.json`: the load as a workload file (404 without one, or before ready). */
  route(app: FastifyInstance): void {
    const { enabled, ready } = this.#o;
    app.get(DEMO_LOAD_ROUTE, async (_request, reply) => {
      const load = enabled && ready() ? await this.refresh() : null;
      if (load === null) {
        throw new NotFoundError(
          `Expected a server with tenants and examples on for ${DEMO_LOAD_ROUTE} but ${enabled ? (ready() ? 'it serves no tenant' : 'it is still starting') : 'examples are off in its config'}`,
          // There is no such resource (yet), like the example request of a tenant that does not exist.
          { details: { reason: 'unknown-tenant' } },
        );
      }
      return reply.type('application/json').send(`${JSON.stringify(load.workload, null, 2)}\n`);
    });
  }
}
