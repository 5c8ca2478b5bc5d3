/**
 * The example request of every served tenant (examples.ts writes them): which file belongs to which tenant, the
 * `curl` line the banner prints, and the route that serves them at `GET /examples/<tenant>.json`.
 */
import { readFile } from 'node:fs/promises';
import { NotFoundError } from '@swapless/core';
import type { Service } from '@swapless/service';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { curlLine, removeExample, writeExamples } from './examples.js';

/** What the example files need from the server around them. */
export interface ExampleFilesOptions {
  /** The state directory they are written to. */
  dir: string;
  /** The config's `examples`. */
  enabled: boolean;
  service: Service;
  logger: Logger;
  /** The server's base URL (known once it listens). */
  baseUrl: () => string;
  /** Inference requires a token (the `curl` line then sends one). */
  withToken: boolean;
}

/** The served tenants' example requests. */
export class ExampleFiles {
  /** Tenant → example request file. */
  readonly files: Record<string, string> = {};
  /** Tenant → a `curl` line that sends its example request. */
  readonly curl: Record<string, string> = {};
  readonly #o: ExampleFilesOptions;

  constructor(options: ExampleFilesOptions) {
    this.#o = options;
  }

  /** True when the tenant's example has been written. */
  has(name: string): boolean {
    return this.files[name] !== undefined;
  }

  /** Writes a served tenant's example (nothing with examples off); a failure is logged, never thrown. */
  async write(name: string): Promise<void> {
    const { dir, enabled, service, logger } = this.#o;
    if (!enabled || !service.has(name)) return;
    try {
      const files = await writeExamples(dir, [service.metadata(name)]);
      this.files[name] = files[name]!;
      this.curl[name] = curlLine(this.#o.baseUrl(), name, files[name]!, this.#o.withToken);
    } catch (error) {
      logger.warn({ tenant: name, err: error }, 'could not write the example request');
    }
  }

  /** Forgets a removed tenant's example and removes its file (a failure is logged). */
  async drop(name: string): Promise<void> {
    delete this.files[name];
    delete this.curl[name];
    await removeExample(this.#o.dir, name).catch((error: unknown) =>
      this.#o.logger.warn({ tenant: name, err: error }, 'could not remove the example request'),
    );
  }

  /** `GET /examples/<tenant>.json`: the example request (synthetic inputs, nothing secret), read from its file. */
  route(app: FastifyInstance): void {
    app.get<{ Params: { file: string } }>('/examples/:file', async (request, reply) => {
      const name = /^(.+)\.json$/.exec(request.params.file)?.[1];
      const path = name !== undefined && Object.hasOwn(this.files, name) ? this.files[name] : undefined;
      const text = path !== undefined ? await readFile(path, 'utf8').catch(() => null) : null;
      if (text === null) {
        throw new NotFoundError(
          `Expected the example request of a tenant (/examples/<tenant>.json) but there is none for "${request.params.file}"`,
          { details: { reason: 'unknown-tenant' } },
        );
      }
      return reply.type('application/json').send(text);
    });
  }
}
