/**
 * The reference server: one {@link Service} (the controlled runtime over one Edge TPU, emulated or real), the
 * model repository, and one fastify app with the adapters — KServe v2 under `/v2`, management under `/api/v1`,
 * Prometheus at `/metrics`, the dashboard at `/dashboard`, and a small index at `/`. The app owns no logic of its
 * own: it wires the adapters' structural backends to the service and the repository.
 */

import { dashboardRoutes } from '@swapless/adapter-dashboard';
import { kserveRoutes } from '@swapless/adapter-kserve';
import { managementRoutes } from '@swapless/adapter-management';
import { createMetrics, metricsRoutes } from '@swapless/adapter-prometheus';
import { type ProgressListener, progressBar, stderrSink } from '@swapless/core';
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
import { OutsideTime } from './client-probe.js';
import { parseConfig, type ServerConfig, type ServerConfigInput, type ServerTenantConfig } from './config.js';
import type { DemoLoad } from './demo-load.js';
import { DemoLoadRoute } from './demo-route.js';
import { EmulationLog } from './emulation-log.js';
import { installErrorHandling } from './errors.js';
import { ExampleFiles } from './example-files.js';
import { clearExamples } from './examples.js';
import { indexRoute } from './index-route.js';
import { createLogger } from './logger.js';
import { trackConnections } from './protocol.js';
import { RejectionLog } from './rejections.js';
import { type RepositoryWatcher, watchRepository } from './repository-watcher.js';
import { loadSecurity } from './security.js';
import { shutdownServer } from './shutdown.js';
import { openTenantState, type TenantState } from './state.js';
import { type FailedTenant, startTenants } from './tenant-startup.js';

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
    ...(config.devices !== null ? { devices: config.devices.map((x) => ({ ...x })) } : {}),
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
  const { service, repository, watcher } = await startService(cfg, options, logger, drawer);
  let startupDone = false;
  let closing: Promise<void> | null = null;

  const app = createApp(cfg.bodyLimit, security.tls, logger);
  const rejections = new RejectionLog(logger);
  installErrorHandling(app, rejections);
  // Who may call which route (auth.ts): one hook for every route, the adapters' included.
  const access = installAuth(app, { tokens: security.tokens, host: cfg.host, tls: security.tls !== null });
  const withToken = access.inference === 'token';
  const connections = trackConnections(app.server);
  // What a client waits outside the server's hooks, counted as front-end time (client-probe.ts).
  const outside = new OutsideTime(cfg.clientProbeMs);
  const context: BackendContext = {
    service,
    repository,
    watcher,
    started: () => startupDone,
    closing: () => closing !== null,
  };
  let urls: ServerUrls = { base: '', api: '', management: '', dashboard: '', metrics: '' };
  const examples = new ExampleFiles({
    dir: cfg.stateDir,
    enabled: cfg.examples,
    service,
    logger,
    baseUrl: () => urls.base,
    withToken,
  });
  let state: TenantState | null = null;
  // The state is opened further down (before listening): looked up when called.
  const management = managementOf(context, examples, logger, () => state!);
  const metrics = createMetrics({ source: service });
  const onTick = tickListener(service, logger, outside);
  try {
    await adapterRoutes(app, cfg, context, management, metrics, outside);
  } catch (error) {
    watcher.close();
    metrics.close();
    await outside.close();
    await service.close();
    throw error;
  }
  const demo = ownRoutes(app, cfg, service, logger, examples, {
    withToken,
    urls: () => urls,
    started: () => startupDone,
    ready: () => startupDone && closing === null,
  });

  const parts = { app, connections, service, onTick, watcher, outside, metrics, rejections, logger };
  const close = (): Promise<void> => {
    if (closing === null) closing = shutdownServer({ ...parts, state: () => state });
    return closing;
  };

  // The saved registrations are read (an unusable file is moved aside) before listening, so registrations that
  // arrive while the config's tenants start are saved too.
  state = await openTenantState(cfg.stateDir, logger);
  // This server owns the directory: example files of tenants gone since the last run go; the served ones are
  // written again as they start.
  if (state.owned) await clearExamples(cfg.stateDir);

  const { port, urls: listening } = await listen(app, cfg, security.tls !== null, logger, close);
  urls = listening;
  outside.listening(urls.base);

  const failed = await startTenants({
    tenants: cfg.tenants,
    state,
    service,
    logger,
    drawer,
    closing: () => closing !== null,
    add: (spec) => addTenant(repository, service, logger, spec),
    writeExample: (name) => examples.write(name),
  });

  // The start-up scan did not wait for vetting; the tenants' own models have been vetted since.
  await watcher.rescan();
  startupDone = true;
  await demo.sizeAtStartup();
  const startupMs = performance.now() - t0;
  logger.info({ ms: Math.round(startupMs), tenants: service.tenantNames(), failed: failed.length }, 'ready');
  const saved = state;
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
    examples: examples.files,
    curl: examples.curl,
    failed,
    state: saved,
    get scan() {
      return watcher.last;
    },
    get demoLoad() {
      return demo.current;
    },
    startupMs,
    access,
    close,
  };
}

/** The management backend over the service, the repository, the example files and the saved registrations. */
function managementOf(
  context: BackendContext,
  examples: ExampleFiles,
  logger: Logger,
  state: () => TenantState,
): ReturnType<typeof managementBackend> {
  const { repository, service } = context;
  return managementBackend(
    context,
    {
      add: (spec, resolved) => addTenant(repository, service, logger, spec, resolved),
      state,
      writeExample: (name) => examples.write(name),
      dropExample: (name) => examples.drop(name),
    },
    logger,
  );
}

/** Listens as the config says; a failure closes what was started and is a typed error (listenError). */
async function listen(
  app: FastifyInstance,
  cfg: ServerConfig,
  https: boolean,
  logger: Logger,
  close: () => Promise<void>,
): Promise<{ port: number; urls: ServerUrls }> {
  try {
    const bound = await listenOn(app, cfg.host, cfg.port, https);
    logger.info({ host: cfg.host, port: bound.port, urls: bound.urls }, 'listening');
    return bound;
  } catch (error) {
    await close().catch(() => undefined);
    throw listenError(error, cfg.host, cfg.port);
  }
}

/** The adapters' routes: KServe v2 under `/v2`, management under `/api/v1`, `/metrics`, `/dashboard`. */
async function adapterRoutes(
  app: FastifyInstance,
  cfg: ServerConfig,
  context: BackendContext,
  management: ReturnType<typeof managementBackend>,
  metrics: ReturnType<typeof createMetrics>,
  outside: OutsideTime,
): Promise<void> {
  await kserveRoutes(app, {
    backend: inferenceBackend(context, () => outside.ms),
    serverName: 'swapless',
    serverVersion: SERVER_VERSION,
    bodyLimit: cfg.bodyLimit,
    deadlineMs: cfg.deadlineMs,
  });
  await managementRoutes(app, { backend: management });
  await metricsRoutes(app, { metrics });
  await dashboardRoutes(app, { source: context.service });
}

/** The server's own routes — `/`, the demo load, the example requests — and the demo load they serve. */
function ownRoutes(
  app: FastifyInstance,
  cfg: ServerConfig,
  service: Service,
  logger: Logger,
  examples: ExampleFiles,
  o: { withToken: boolean; urls: () => ServerUrls; started: () => boolean; ready: () => boolean },
): DemoLoadRoute {
  const demo = new DemoLoadRoute({
    service,
    enabled: cfg.examples,
    stateDir: cfg.stateDir,
    logger,
    ready: o.started,
  });
  indexRoute(app, {
    service,
    version: SERVER_VERSION,
    urls: o.urls,
    ready: o.ready,
    examples,
    examplesOn: cfg.examples,
    withToken: o.withToken,
  });
  demo.route(app);
  examples.route(app);
  return demo;
}

/**
 * What the server does at every controller tick: the emulation-lag warning (one line a minute at most; status and
 * dashboard say it too) and the time clients wait outside the server.
 */
function tickListener(service: Service, logger: Logger, outside: OutsideTime): () => void {
  const emulationLog = new EmulationLog(logger);
  const onTick = (): void => {
    emulationLog.check(service.controller().emulation, performance.now());
    outside.tick();
  };
  service.on('tick', onTick);
  return onTick;
}

/**
 * The service, the model repository and its watcher for `cfg` (progress of catalog building to the user's
 * listener, or the bar `drawer`, and at debug to the log).
 */
async function startService(
  cfg: ServerConfig,
  options: StartServerOptions,
  logger: Logger,
  drawer: ReturnType<typeof progressBar> | null,
): Promise<{ service: Service; repository: ModelRepository; watcher: RepositoryWatcher }> {
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
  return { service, repository, watcher };
}

/** Resolves a tenant's model (repository, else zoo) and adds it to the service with the model's defaults. */
async function addTenant(
  repository: ModelRepository,
  service: Service,
  logger: Logger,
  spec: ServerTenantConfig,
  resolved?: () => void,
): Promise<TenantStatus> {
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
    ...(spec.sloPercentile !== undefined ? { sloPercentile: spec.sloPercentile } : {}),
    ...(spec.device !== undefined ? { device: spec.device } : {}),
  });
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
