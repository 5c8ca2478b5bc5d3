/** `GET /`: what the server is, whether it is ready, its URLs and its tenants, for people and scripts. */
import type { Service } from '@swapless/service';
import type { FastifyInstance } from 'fastify';
import type { ServerUrls } from './banner.js';
import { DEMO_LOAD_ROUTE } from './demo-load.js';
import type { ExampleFiles } from './example-files.js';
import { remoteCurlLine } from './examples.js';

/** What the index tells from the server around it. */
export interface IndexRouteOptions {
  service: Service;
  version: string;
  urls: () => ServerUrls;
  /** Ready and not shutting down. */
  ready: () => boolean;
  examples: ExampleFiles;
  /** The config's `examples` (the demo load is served only then). */
  examplesOn: boolean;
  /** Inference requires a token. */
  withToken: boolean;
}

/** Installs `GET /`. */
export function indexRoute(app: FastifyInstance, o: IndexRouteOptions): void {
  app.get('/', async (_request, reply) => {
    const urls = o.urls();
    const names = o.service.tenantNames();
    return reply.send({
      name: 'swapless',
      version: o.version,
      ready: o.ready(),
      urls,
      tenants: names.map((name) => ({
        name,
        metadata: `${urls.api}/models/${name}`,
        infer: `${urls.api}/models/${name}/infer`,
        // A line for clients: it names no file of this host (the example comes from `GET /examples/<name>.json`).
        example: o.examples.has(name) ? remoteCurlLine(urls.base, name, o.withToken) : null,
      })),
      // The demo load for this host, for `swapless load --demo` (null without one).
      demoLoad: o.examplesOn && names.length > 0 ? `${urls.base}${DEMO_LOAD_ROUTE}` : null,
      docs: 'docs/server.md',
    });
  });
}
