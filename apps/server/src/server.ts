/**
 * The reference server: one {@link Service} (the controlled runtime over one Edge TPU, emulated or real), the
 * model repository, and one fastify app with the adapters — KServe v2 under `/v2`, management under `/api/v1`,
 * Prometheus at `/metrics`, the dashboard at `/dashboard`, and a small index at `/`. The app owns no logic of its
 * own: it wires the adapters' structural backends to the service and the repository.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dashboardRoutes } from '@swapless/adapter-dashboard';
import { kserveRoutes } from '@swapless/adapter-kserve';
import { managementRoutes } from '@swapless/adapter-management';
import { createMetrics, metricsRoutes } from '@swapless/adapter-prometheus';
import {
  NotFoundError,
  type ProgressListener,
  progressBar,
  stderrSink,
  writeFileAtomic,
} from '@swapless/core';
import {
  createService,
  ModelRepository,
  type ScanResult,
  type Service,
  type ServiceOptions,
  type TenantStatus,
} from '@swapless/service';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createApp, listenError, listenOn } from './app.js';
import { type AuthSummary, installAuth } from './auth.js';
import { type BackendContext, inferenceBackend, managementBackend } from './backends.js';
import type { BannerTenant, ServerUrls } from './banner.js';
import { type ClientProbe, startClientProbe } from './client-probe.js';
import { parseConfig, type ServerConfig, type ServerConfigInput, type ServerTenantConfig } from './config.js';
import { demoLoadOf } from './demo-costs.js';
import { DEMO_LOAD_FILE, DEMO_LOAD_ROUTE, type DemoLoad } from './demo-load.js';
import { EmulationLog } from './emulation-log.js';
import { installErrorHandling } from './errors.js';
import { clearExamples, curlLine, remoteCurlLine, removeExample, writeExamples } from './examples.js';
import { createLogger, flushLogger } from './logger.js';
import { beginShutdown, trackConnections } from './protocol.js';
import { RejectionLog } from './rejections.js';
import { type RepositoryWatcher, watchRepository } from './repository-watcher.js';
import { loadSecurity } from './security.js';
import { openTenantState, type TenantState } from './state.js';
import { type FailedTenant, startTenants } from './tenant-startup.js';

/** Sampling interval of the event-loop lateness that counts as front-end time, ms. */
const LOOP_RESOLUTION_MS = 1;

/** The server's version (reported by `GET /v2`). */
export const SERVER_VERSION = '0.1.0';

/** Options of {@link startServer} beyond the config. */
export interface StartServerOptions {
  /** The logger (default: pino at the config's level and destination). */
  logger?: Logger;
  /** Progress of catalog building (default: a bar on stderr; `false` for none). Progress is logged at debug too. */
  progress?: ProgressListener | false;
  /** Extra service options (tests: `emulator: { timeScale: 0 }`), merged over those from the config. */
  service?: Partial<ServiceOptions>;
}

export type { FailedTenant } from './tenant-startup.js';

/** A running server. */
export interface RunningServer {
  /** The fastify app (listening). */
  readonly app: FastifyInstance;
  /** The controlled runtime. */
  readonly service: Service;
  /** The model repository (repository folders and zoo names). */
  readonly repository: ModelRepository;
  /** The configuration it runs with. */
  readonly config: ServerConfig;
  readonly logger: Logger;
  /** Where to reach it from this machine. */
  readonly urls: ServerUrls;
  /** The port it listens on (the chosen one when the config said 0). */
  readonly port: number;
  /** Tenant → example KServe request file (when `config.examples`). */
  readonly examples: Readonly<Record<string, string>>;
  /** Tenant → a `curl` line that sends its example request. */
  readonly curl: Readonly<Record<string, string>>;
  /** Config tenants and saved registrations that could not be started (the server serves the others). */
  readonly failed: readonly FailedTenant[];
  /** The tenants registered through the management API, saved in the state directory (docs/server.md). */
  readonly state: TenantState;
  /**
   * The latest repository scan (usable, skipped, rejected, and `pending`: models whose vetting has not finished;
   * the first one is taken before listening and vets nothing in the way).
   */
  readonly scan: ScanResult;
  /**
   * The demo load sized for this host from what the served tenants cost here (demo-load.ts), as it was at ready
   * (`GET /examples/demo-load.json` re-sizes it when the tenants changed since); null without tenants or with
   * `examples: false`.
   */
  readonly demoLoad: DemoLoad | null;
  /** Time from the call to ready, ms (measured). */
  readonly startupMs: number;
  /** What each kind of route requires (tokens, HTTPS); no secrets. */
  readonly access: AuthSummary;
  /**
   * Graceful stop: stop accepting connections and wait for in-flight HTTP requests (`app.close()`), then drain and
   * dispose the service (`service.close()`). Idempotent; resolves when everything is closed.
   */
  close(): Promise<void>;
}

/** `[1,224,224,3] INT8` for the banner. */
function describeInputs(inputs: readonly { datatype: string; shape: readonly number[] }[]): string {
  return inputs.map((i) => `${i.datatype}[${i.shape.join(',')}]`).join(' + ');
}

/** The service options a config asks for. */
export function serviceOptionsOf(config: ServerConfig): ServiceOptions {
  const d = config.device;
  const device =
    typeof d === 'string'
      ? d
      : {
          edgetpu: {
            ...(d.edgetpu.library !== undefined ? { library: d.edgetpu.library } : {}),
            ...(d.edgetpu.device !== undefined ? { device: d.edgetpu.device } : {}),
            ...(d.edgetpu.options !== undefined ? { options: { ...d.edgetpu.options } } : {}),
          },
          ...(d.profile !== undefined ? { profile: d.profile } : {}),
          ...(d.compilerPath !== undefined ? { compilerPath: d.compilerPath } : {}),
        };
  return {
    device,
    mode: config.mode,
    policy: config.policy,
    policyOptions: { ...config.policyOptions },
    tickMs: config.tickMs,
    queueLimit: config.queueLimit,
    profiling: { ...config.profiling },
    vetting: config.vetting.enabled ? { timeoutMs: config.vetting.timeoutMs } : false,
    ...(config.cores !== null ? { cores: config.cores } : {}),
    ...(config.latencyModel !== null ? { latencyModel: config.latencyModel } : {}),
  };
}

/**
 * Starts the server: validates `config` (a {@link ServerConfig} from `loadConfig`, or any partial input — defaults
 * are applied; the embedded demo tenants only come with `loadConfig()`), creates the service, scans the
 * repository (malformed entries are logged and skipped; new models are vetted in the background, not before
 * listening), builds the app with every adapter, listens, then
 * registers the config's tenants one by one (catalogs profiled with progress, cached for the next start; a
 * tenant that fails is logged and left out, the others serve) and writes an example request per tenant.
 * Resolves once everything is ready. `/v2/health/live` answers from the moment it listens;
 * `/v2/health/ready` once the tenants are registered.
 */
export async function startServer(
  config: ServerConfig | ServerConfigInput = {},
  options: StartServerOptions = {},
): Promise<RunningServer> {
  const t0 = performance.now();
  const { config: cfg } = parseConfig(config, { source: 'startServer config' });
  // Token files, certificate and key are read first: a bad one stops the start before anything is profiled.
  const security = await loadSecurity(cfg);
  const logger = options.logger ?? createLogger({ level: cfg.logLevel, destination: cfg.logDestination });
  const drawer = options.progress === undefined ? progressBar(stderrSink) : null;
  const userProgress = options.progress === false ? undefined : (options.progress ?? drawer!);
  const onProgress: ProgressListener = (e) => {
    userProgress?.(e);
    if (e.done >= e.total)
      logger.debug({ phase: e.phase, total: e.total, label: e.label }, 'progress: %s done', e.phase);
  };

  const service = await createService({ ...serviceOptionsOf(cfg), onProgress, ...options.service });
  // Every new or changed repository model is vetted (in a child process) before it counts as usable.
  const repository = new ModelRepository({
    root: cfg.repository,
    zoo: cfg.zoo,
    ...cfg.repositoryLimits,
    vet: (bytes, name) => service.vet(bytes, `repository model ${name}`),
  });
  // Scans never wait for vetting: the server listens at once, models not vetted yet are listed as pending while
  // their vetting goes on in the background (a few at a time), and a registration waits for its own model only.
  let watcher: RepositoryWatcher;
  try {
    watcher = await watchRepository(repository, logger);
  } catch (error) {
    await service.close();
    throw error;
  }
  // E.g. a real Edge TPU without edgetpu_compiler: heads would run on the CPU under a `measured` label.
  for (const w of service.warnings) logger.warn({ device: cfg.device }, w);
  let startupDone = false;
  let closing: Promise<void> | null = null;
  const examples: Record<string, string> = {};
  const curl: Record<string, string> = {};

  const app = createApp(cfg.bodyLimit, security.tls, logger);
  const rejections = new RejectionLog(logger);
  installErrorHandling(app, rejections);
  // Who may call which route (auth.ts): one hook for every route, the adapters' included.
  const access = installAuth(app, { tokens: security.tokens, host: cfg.host, tls: security.tls !== null });
  const connections = trackConnections(app.server);

  // What a client waits outside the server's hooks (its request for the event loop, its answer for the client's
  // own thread): the client probe's mean round trip over the last tick (client-probe.ts); without probes, the
  // event loop's mean lateness, sampled every ms and read (then reset) at each controller tick.
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loopDelay.enable();
  let outsideMs = 0;
  let clientProbe: ClientProbe | null = null;
  const context: BackendContext = {
    service,
    repository,
    watcher,
    started: () => startupDone,
    closing: () => closing !== null,
  };
  const inference = inferenceBackend(context, () => outsideMs);
  const management = managementBackend(
    context,
    // Defined further down (they need the URLs and the state, which come later): looked up when called.
    {
      add: (spec, resolved) => addTenant(spec, resolved),
      state: () => state,
      writeExample: (name) => writeExample(name),
      dropExample: (name) => dropExample(name),
    },
    logger,
  );

  const metrics = createMetrics({ source: service });
  // The functional emulator lagging the device: one warn line a minute at most (status and dashboard say it too).
  const emulationLog = new EmulationLog(logger);
  const onTick = (): void => {
    emulationLog.check(service.controller().emulation, performance.now());
    // The loop's mean lateness over the tick, beyond the 1 ms sampling interval.
    const mean = loopDelay.count > 0 ? loopDelay.mean / 1e6 - LOOP_RESOLUTION_MS : 0;
    loopDelay.reset();
    const probed = clientProbe?.take() ?? null;
    outsideMs = probed ?? (Number.isFinite(mean) ? Math.max(0, mean) : 0);
  };
  service.on('tick', onTick);
  try {
    await kserveRoutes(app, {
      backend: inference,
      serverName: 'swapless',
      serverVersion: SERVER_VERSION,
      bodyLimit: cfg.bodyLimit,
      deadlineMs: cfg.deadlineMs,
    });
    await managementRoutes(app, { backend: management });
    await metricsRoutes(app, { metrics });
    await dashboardRoutes(app, { source: service });
  } catch (error) {
    watcher.close();
    metrics.close();
    await service.close();
    throw error;
  }

  let urls: ServerUrls = { base: '', api: '', management: '', dashboard: '', metrics: '' };
  app.get('/', async (_request, reply) =>
    reply.send({
      name: 'swapless',
      version: SERVER_VERSION,
      ready: startupDone && closing === null,
      urls,
      tenants: service.tenantNames().map((name) => ({
        name,
        metadata: `${urls.api}/models/${name}`,
        infer: `${urls.api}/models/${name}/infer`,
        // A line for clients: it names no file of this host (the example comes from `GET /examples/<name>.json`).
        example:
          examples[name] !== undefined ? remoteCurlLine(urls.base, name, access.inference === 'token') : null,
      })),
      // The demo load for this host, for `swapless load --demo` (null without one).
      demoLoad: cfg.examples && service.tenantNames().length > 0 ? `${urls.base}${DEMO_LOAD_ROUTE}` : null,
      docs: 'docs/server.md',
    }),
  );
  // The demo load for this host (a workload file for `swapless load --demo`): re-sized when the tenants changed.
  let demoLoad: DemoLoad | null = null;
  const refreshDemoLoad = async (): Promise<DemoLoad | null> => {
    const names = service.tenantNames().join('\n');
    if (demoLoad !== null && demoLoad.workload.tenants.map((t) => t.name).join('\n') === names)
      return demoLoad;
    demoLoad = demoLoadOf(service, service.controller().device);
    if (demoLoad !== null) {
      await writeFileAtomic(
        join(cfg.stateDir, DEMO_LOAD_FILE),
        `${JSON.stringify(demoLoad.workload, null, 2)}\n`,
      ).catch((error: unknown) => logger.warn({ err: error }, 'could not write the demo load'));
    }
    return demoLoad;
  };
  app.get(DEMO_LOAD_ROUTE, async (_request, reply) => {
    const load = cfg.examples && startupDone ? await refreshDemoLoad() : null;
    if (load === null) {
      throw new NotFoundError(
        `Expected a server with tenants and examples on for ${DEMO_LOAD_ROUTE} but ${cfg.examples ? (startupDone ? 'it serves no tenant' : 'it is still starting') : 'examples are off in its config'}`,
        // There is no such resource (yet), like the example request of a tenant that does not exist.
        { details: { reason: 'unknown-tenant' } },
      );
    }
    return reply.type('application/json').send(`${JSON.stringify(load.workload, null, 2)}\n`);
  });
  // The example request of a tenant (synthetic inputs, nothing secret), read from the state directory.
  app.get<{ Params: { file: string } }>('/examples/:file', async (request, reply) => {
    const name = /^(.+)\.json$/.exec(request.params.file)?.[1];
    const path = name !== undefined && Object.hasOwn(examples, name) ? examples[name] : undefined;
    const text = path !== undefined ? await readFile(path, 'utf8').catch(() => null) : null;
    if (text === null) {
      throw new NotFoundError(
        `Expected the example request of a tenant (/examples/<tenant>.json) but there is none for "${request.params.file}"`,
        { details: { reason: 'unknown-tenant' } },
      );
    }
    return reply.type('application/json').send(text);
  });

  const dropExample = async (name: string): Promise<void> => {
    delete examples[name];
    delete curl[name];
    await removeExample(cfg.stateDir, name).catch((error: unknown) =>
      logger.warn({ tenant: name, err: error }, 'could not remove the example request'),
    );
  };

  /** Resolves a tenant's model (repository, else zoo) and adds it to the service with the model's defaults. */
  const addTenant = async (spec: ServerTenantConfig, resolved?: () => void): Promise<TenantStatus> => {
    const model = await repository.resolveModel(spec.model).finally(resolved);
    const rate = spec.rate ?? model.config.rate;
    const sloMs = spec.sloMs ?? model.config.sloMs;
    logger.info({ tenant: spec.name, model: model.source }, 'registering tenant');
    return service.addTenant({
      name: spec.name,
      model: model.bytes,
      source: model.source,
      ...(rate !== undefined ? { rate } : {}),
      ...(sloMs !== undefined ? { sloMs } : {}),
    });
  };

  const writeExample = async (name: string): Promise<void> => {
    if (!cfg.examples || !service.has(name)) return;
    try {
      const files = await writeExamples(cfg.stateDir, [service.metadata(name)]);
      examples[name] = files[name]!;
      curl[name] = curlLine(urls.base, name, files[name]!, access.inference === 'token');
    } catch (error) {
      logger.warn({ tenant: name, err: error }, 'could not write the example request');
    }
  };

  const close = (): Promise<void> => {
    if (closing === null) {
      closing = (async () => {
        logger.info('shutting down: no new connections, draining in-flight requests');
        const t = performance.now();
        watcher.close();
        await clientProbe?.close();
        // Answers in flight go out with `Connection: close`; new requests get a 503 in the error shape.
        beginShutdown(app.server, connections);
        // A keep-alive connection that was busy when closing began turns idle once its response is sent, and
        // would then hold app.close() up until the keep-alive timeout (72 s): close such connections as they idle.
        const reaper = setInterval(() => app.server.closeIdleConnections(), 25);
        try {
          await app.close();
        } finally {
          clearInterval(reaper);
          await service.close();
          service.off('tick', onTick);
          loopDelay.disable();
          metrics.close();
          await state.close();
          rejections.flush();
          logger.info({ ms: Math.round(performance.now() - t) }, 'shut down');
          flushLogger(logger);
        }
      })();
    }
    return closing;
  };

  // The saved registrations are read (an unusable file is moved aside) before listening, so registrations that
  // arrive while the config's tenants start are saved too.
  const state: TenantState = await openTenantState(cfg.stateDir, logger);
  // This server owns the directory: example files of tenants gone since the last run go; the served ones are
  // written again as they start.
  if (state.owned) await clearExamples(cfg.stateDir);

  let port: number;
  try {
    ({ port, urls } = await listenOn(app, cfg.host, cfg.port, security.tls !== null));
    logger.info({ host: cfg.host, port, urls }, 'listening');
    if (cfg.clientProbeMs > 0) clientProbe = startClientProbe(urls.base, cfg.clientProbeMs);
  } catch (error) {
    await close().catch(() => undefined);
    throw listenError(error, cfg.host, cfg.port);
  }

  const failed = await startTenants({
    tenants: cfg.tenants,
    state,
    service,
    logger,
    drawer,
    closing: () => closing !== null,
    add: addTenant,
    writeExample,
  });

  // The start-up scan did not wait for vetting; the tenants' own models have been vetted since.
  await watcher.rescan();
  startupDone = true;
  if (cfg.examples) {
    const load = await refreshDemoLoad();
    if (load !== null) {
      logger.info(
        {
          rates: load.workload.tenants.map((t) => [t.name, t.rate]),
          phases: load.sizing.phases,
          // What the controller is predicted to do at the step (demo-step.ts).
          step: load.sizing.step,
        },
        'demo load sized for this host',
      );
    }
  }
  const startupMs = performance.now() - t0;
  logger.info({ ms: Math.round(startupMs), tenants: service.tenantNames(), failed: failed.length }, 'ready');
  return {
    app,
    service,
    repository,
    config: cfg,
    logger,
    get urls() {
      return urls;
    },
    port,
    examples,
    curl,
    failed,
    state,
    get scan() {
      return watcher.last;
    },
    get demoLoad() {
      return demoLoad;
    },
    startupMs,
    access,
    close,
  };
}

/** Facts for the banner about a running server. */
export function describeTenants(server: RunningServer): BannerTenant[] {
  return server.service.tenants().map((t) => ({
    name: t.name,
    source: t.source,
    k: t.k,
    ops: t.ops,
    cores: t.cores,
    rate: t.rate.priorPerS,
    inputs: describeInputs(server.service.metadata(t.name).inputs),
    modelClass: t.modelClass,
  }));
}
