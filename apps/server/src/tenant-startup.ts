/**
 * Starting the tenants a server begins with: the config's, then the registrations saved by earlier runs. A tenant
 * that fails is logged and left out (a saved one stays saved for the next start); the others serve.
 */
import { ErrorCodes, isSwapLessError, type ProgressBar } from '@swapless/core';
import type { Service, TenantStatus } from '@swapless/service';
import type { Logger } from 'pino';
import type { ServerTenantConfig } from './config.js';
import type { TenantState } from './state.js';

/** A tenant the config asked for, or a saved registration, that could not be started. */
export interface FailedTenant {
  name: string;
  code: string;
  message: string;
  /** Where the tenant came from: the config, or the state directory (registered through the API before). */
  from: 'config' | 'state';
}

/** What {@link startTenants} works with. */
export interface TenantStartup {
  /** The config's tenants, started first, in order. */
  readonly tenants: readonly ServerTenantConfig[];
  /** The saved registrations (started next, in registration order). */
  readonly state: TenantState;
  readonly service: Service;
  readonly logger: Logger;
  /** The progress bar on stderr, if any (prefixed with the tenant being prepared). */
  readonly drawer: ProgressBar | null;
  /** Shutdown has begun: start nothing more. */
  readonly closing: () => boolean;
  /** Resolves a tenant's model and adds it to the service. */
  readonly add: (spec: ServerTenantConfig) => Promise<TenantStatus>;
  /** Writes the example request of a started tenant. */
  readonly writeExample: (name: string) => Promise<void>;
}

/**
 * Starts the config's tenants, then the saved registrations. The config's tenants win a name both have (the saved
 * registration is dropped); a registration made or dropped through the API meanwhile is left as it is. Resolves
 * to the tenants that could not be started.
 */
export async function startTenants(startup: TenantStartup): Promise<FailedTenant[]> {
  const { tenants, state, service, logger, drawer, closing, add, writeExample } = startup;
  const failed: FailedTenant[] = [];
  try {
    for (const t of tenants) {
      if (closing()) break;
      const ok = await startTenant(t, 'config');
      if (!ok) continue;
      await writeExample(t.name);
    }
    // Then the registrations saved by earlier runs, in registration order. The config's tenants come first and win a
    // name both have; a saved registration that cannot start (its model is gone…) stays saved for the next start.
    const configNames = new Set(tenants.map((t) => t.name));
    for (const t of state.saved) {
      if (closing()) break;
      if (configNames.has(t.name)) {
        await dropShadowed(t);
        continue;
      }
      // Registered again through the API while starting (that registration replaced the saved one), or dropped by a
      // DELETE meanwhile.
      if (service.has(t.name) || state.get(t.name) === undefined) continue;
      if (await startTenant(t, 'state')) await writeExample(t.name);
    }
  } finally {
    drawer?.done();
  }

  async function startTenant(t: ServerTenantConfig, from: FailedTenant['from']): Promise<boolean> {
    if (drawer) drawer.prefix = `${t.name}: `;
    const tt = performance.now();
    try {
      const status = await add(t);
      drawer?.done();
      logger.info(
        {
          tenant: t.name,
          from,
          model: status.source,
          k: status.k,
          cores: status.cores,
          class: status.modelClass.kind,
          ms: Math.round(performance.now() - tt),
        },
        'tenant started',
      );
      return true;
    } catch (error) {
      drawer?.done();
      const { code, message } = describeError(error);
      failed.push({ name: t.name, code, message, from });
      // A saved registration that fails is kept for the next start (its model may come back): a warning.
      if (from === 'config')
        logger.error({ tenant: t.name, model: t.model, code }, 'tenant not started: %s', message);
      else
        logger.warn(
          { tenant: t.name, saved: t, code },
          'saved tenant not restored (kept in the state for the next start; DELETE /api/v1/tenants/%s drops it): %s',
          t.name,
          message,
        );
      return false;
    }
  }

  /** A saved registration whose name a config tenant now has: the config wins, the saved one is dropped. */
  async function dropShadowed(t: ServerTenantConfig): Promise<void> {
    const message = `Expected a name no config tenant has for the saved registration ${JSON.stringify(t.name)} (model ${JSON.stringify(t.model)}) but the config has a tenant of that name: the config's tenant wins and the saved registration was dropped`;
    failed.push({ name: t.name, code: ErrorCodes.INVALID_ARGUMENT, message, from: 'state' });
    logger.warn({ tenant: t.name, saved: t }, 'saved tenant not restored: %s', message);
    await state
      .delete(t.name)
      .catch((error: unknown) =>
        logger.error(
          { tenant: t.name, err: error },
          'could not drop the shadowed registration from the state',
        ),
      );
  }

  return failed;
}

function describeError(error: unknown): { code: string; message: string } {
  if (isSwapLessError(error)) return { code: error.code, message: error.message };
  return { code: ErrorCodes.INTERNAL, message: error instanceof Error ? error.message : String(error) };
}
