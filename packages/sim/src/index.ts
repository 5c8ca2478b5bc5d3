/**
 * @swapless/sim — discrete-event simulator of tenants sharing one Edge TPU (FCFS, caching-token reloads) with
 * per-tenant CPU stages (M/G/1 or M/G/c with empirical service times), in virtual time. See docs/sim.md.
 */
export { CDF_LEVELS, Simulation, simulate } from './simulate.js';
/** The simulator's generator; it lives in @swapless/core and is re-exported here for existing imports. */
export { Xoshiro128 } from '@swapless/core';
export { quantileSorted, SKETCH_RELATIVE_ACCURACY } from './quantiles.js';
export type {
  CpuSampling,
  SimAppliedReconfiguration,
  SimDeviceResult,
  SimOptions,
  SimPhase,
  SimReconfiguration,
  SimResult,
  SimScheduledReconfiguration,
  SimSeries,
  SimTenantResult,
  SimTenantSeries,
  SimTickState,
  SimTickTenant,
} from './types.js';
