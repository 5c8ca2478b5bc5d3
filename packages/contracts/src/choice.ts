/**
 * What the controller decides and the runtime applies: one (cut, cores, CPU mode) choice per tenant. A policy's
 * decision is handed to the runtime as it is, so both sides speak this one shape.
 */
import type { CpuMode, TpuDiscipline } from './system.js';

/** One configuration of one tenant: cut `k`, CPU cores and CPU stage mode. */
export interface TenantChoice {
  /** Cut point, 0..n: ops [0,k) on the Edge TPU, [k,n) on the CPU. */
  k: number;
  /** Cores of the tenant's CPU stage (≥ 1 when the tail is not empty; 0 when k = n: no CPU stage). */
  cores: number;
  /** How the CPU stage uses its cores: one request with `cores` threads, or `cores` single-thread workers. */
  mode: CpuMode;
  /** Id of the Edge TPU the head runs on (see `SystemSetup.devices`); absent: the host's first device. */
  device?: string;
  /**
   * Admission control: the fraction of the tenant's requests admitted, in [0, 1]; the rest are refused at once
   * (`SWAPLESS_SHED_FOR_SLO`) so that the other tenants meet their latency objectives. Absent: 1 (all admitted).
   */
  admit?: number;
}

/**
 * A {@link TenantChoice} as a caller may write it where the mode has a default (the runtime's `addTenant` and
 * `reconfigure`): `mode` may be left out and is then `mg1`.
 */
export type TenantChoiceInput = Omit<TenantChoice, 'mode'> & { mode?: CpuMode };

/** A {@link TenantChoice} for the tenant called `name`. */
export interface NamedChoice extends TenantChoice {
  /** Tenant name. */
  name: string;
}

/**
 * A controller decision: the configuration to apply, one choice per named tenant, with the prediction and the
 * reason of the policy that took it. The runtime applies it as it is (`runtime.reconfigure(decision)`); a tenant
 * the decision does not list keeps its configuration.
 */
export interface Decision {
  /** One choice per tenant, by name (a policy lists every tenant of its plan, in its context's order). */
  tenants: readonly NamedChoice[];
  /** Mean response the policy's model predicts for it, ms (NaN when the policy has no model of it). */
  predictedMs: number;
  /** Why (for logs). */
  reason: string;
  /**
   * Co-compiled head sets: each list names tenants whose heads are compiled together in this order (earlier
   * heads get the on-chip cache first) and share one caching token. Absent or unlisted: compiled alone.
   */
  sets?: readonly (readonly string[])[];
  /** How the Edge TPU queue is ordered from now on (absent: FIFO). */
  discipline?: TpuDiscipline;
}
