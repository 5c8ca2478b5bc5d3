/**
 * The structural backends the server hands its adapters: the KServe v2 inference backend and the management
 * backend, both thin translations onto the {@link Service}, the model repository and the saved registrations.
 */
import type { InferenceBackend } from '@swapless/adapter-kserve';
import type { ManagementBackend } from '@swapless/adapter-management';
import { SwapLessIoError } from '@swapless/core';
import type { ModelRepository, Service, TenantStatus } from '@swapless/service';
import type { Logger } from 'pino';
import type { ServerTenantConfig } from './config.js';
import { repositoryIndexOf } from './protocol.js';
import type { RepositoryWatcher } from './repository-watcher.js';
import type { TenantState } from './state.js';

/** What both backends read from the server around them. */
export interface BackendContext {
  readonly service: Service;
  readonly repository: ModelRepository;
  readonly watcher: RepositoryWatcher;
  /** The config's and the saved tenants have been started (ready once the service is too). */
  readonly started: () => boolean;
  /** Shutdown has begun. */
  readonly closing: () => boolean;
}

/**
 * The KServe v2 backend. `outsideMs` is what a client on this host waits outside the server's hooks over the last
 * controller tick (the client probe's round trip, else the event loop's lateness, server.ts): it counts as
 * front-end time.
 */
export function inferenceBackend(ctx: BackendContext, outsideMs: () => number): InferenceBackend {
  const { service, watcher } = ctx;
  const backend: InferenceBackend = {
    isLive: () => !ctx.closing(),
    isReady: () => ctx.started() && !ctx.closing() && service.ready,
    modelNames: () => service.tenantNames(),
    modelMetadata: (name) => (service.has(name) ? service.metadata(name) : undefined),
    isModelReady: (name) => ctx.started() && !ctx.closing() && service.has(name),
    admit: (name, deadlineMs) => service.admit(name, deadlineMs),
    // What the HTTP front end adds to the runtime's latency (body read, decode, encode, write), plus what a client
    // waits outside the server: the service adds its mean to the tenant's predictions, so they are what a client
    // sees.
    onServed(name, serverMs, result) {
      const runtimeMs = result.parameters?.latency_ms;
      if (typeof runtimeMs === 'number')
        service.observeFrontend(name, Math.max(0, serverMs - runtimeMs) + outsideMs());
    },
    async infer(name, inputs, options) {
      const { outputs, trace } = await service.infer(name, inputs, options);
      return {
        outputs,
        parameters: {
          latency_ms: Math.round(trace.latencyMs * 1000) / 1000,
          k: trace.k,
          cores: trace.cores,
          // The TPU part's timing: from the device model (emulated) or the real delegate (measured); the CPU
          // part is always measured. A request without a TPU stage (k = 0) is measured end to end.
          timing: trace.tpu === null || trace.tpu.backend === 'edgetpu' ? 'measured' : 'emulated',
        },
        // For Triton's statistics: time in the TPU and CPU queues, and in the two stages.
        durations: {
          queueMs:
            (trace.tpu === null ? 0 : trace.tpu.startMs - trace.tpu.enqueuedMs) +
            (trace.cpu === null ? 0 : trace.cpu.startMs - trace.cpu.enqueuedMs),
          inferMs:
            (trace.tpu === null ? 0 : trace.tpu.endMs - trace.tpu.startMs) +
            (trace.cpu === null ? 0 : trace.cpu.endMs - trace.cpu.startMs),
        },
      };
    },
    async repositoryIndex() {
      await watcher.rescan();
      return repositoryIndexOf(watcher.last, service.tenants(), (name) => backend.isModelReady(name));
    },
  };
  return backend;
}

/** How the management backend adds, saves and drops tenants (the server owns the example files and the state). */
export interface TenantRegistry {
  /** Resolves a tenant's model and adds it to the service; `resolved` runs once the model is resolved (or not). */
  add(spec: ServerTenantConfig, resolved?: () => void): Promise<TenantStatus>;
  /** The saved registrations (opened before listening). */
  state(): TenantState;
  writeExample(name: string): Promise<void>;
  dropExample(name: string): Promise<void>;
}

/** The management backend: registrations are saved before they are acknowledged, removals before they happen. */
export function managementBackend(
  ctx: BackendContext,
  tenants: TenantRegistry,
  logger: Logger,
): ManagementBackend {
  const { service, repository, watcher } = ctx;
  return {
    tenants: () => service.tenants(),
    tenant: (name) => service.tenant(name),
    async register(spec) {
      // TFLite refusing the model is already a 400 SWAPLESS_INVALID_MODEL naming the tenant (Service.addTenant).
      const status = await tenants.add(spec, () => void watcher.rescan());
      // Acknowledged means saved: a registration that cannot be saved would be gone after a restart, so it is undone
      // and the client gets the typed error (500 SWAPLESS_IO), not a 201.
      try {
        await tenants.state().save(spec);
      } catch (error) {
        logger.error({ tenant: spec.name, err: error }, 'registration not saved: undoing it');
        await service.removeTenant(spec.name).catch(() => undefined);
        throw new SwapLessIoError(`${(error as Error).message}; the tenant was not registered`, {
          cause: error,
          details: (error as SwapLessIoError).details,
        });
      }
      await tenants.writeExample(spec.name);
      return status;
    },
    async unregister(name) {
      // Saved first: a removal that cannot be saved fails (500) with the tenant still served, never comes back later.
      await tenants.state().delete(name);
      await service.removeTenant(name);
      await tenants.dropExample(name);
    },
    async update(name, change) {
      // A live move (no request lost); a saved registration keeps its placement for the next start.
      const status = await service.moveTenant(name, change.device);
      const saved = tenants.state().get(name);
      if (saved !== undefined) {
        const { registeredAt: _, device: __, ...spec } = saved;
        await tenants.state().save(change.device === null ? spec : { ...spec, device: change.device });
      }
      return status;
    },
    async forget(name) {
      // A saved registration that is not served (its restore failed): dropped from the state.
      if (service.has(name) || !(await tenants.state().delete(name))) return false;
      await tenants.dropExample(name);
      return true;
    },
    controller: () => service.controller(),
    history: (limit) => service.history(limit),
    async models() {
      // A fresh scan (an entry is re-parsed only when its file changed), so a model dropped in is listed at once.
      await watcher.rescan();
      const last = watcher.last;
      return {
        repository: last.models.map((m) => m.name),
        zoo: repository.zooNames(),
        skipped: last.skipped,
        rejected: last.rejected,
        pending: last.pending,
      };
    },
  };
}
