/**
 * The objective every latency model of this package reports: the rate-weighted mean response. Its own module so
 * the one-device model (model.ts) and the per-device one (devices.ts) share it without importing each other.
 */
import type { SystemSetup, TenantPrediction } from '@swapless/contracts';

/**
 * The objective Σλ_iR_i / Σλ_i of per-tenant predictions in system order (the plain mean when every rate is 0).
 */
export function objectiveMs(system: SystemSetup, tenants: readonly TenantPrediction[]): number {
  const totalRate = system.tenants.reduce((s, t) => s + t.rate, 0);
  return totalRate > 0
    ? tenants.reduce((s, p, i) => s + system.tenants[i]!.rate * p.responseMs, 0) / totalRate
    : tenants.reduce((s, p) => s + p.responseMs, 0) / tenants.length;
}
