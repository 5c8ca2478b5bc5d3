// Public API of @swapless/runtime: the live executor (one Edge TPU queue, per-tenant CPU stages on worker
// threads, live reconfiguration). Architecture and protocols: docs/runtime.md. Keep exports explicit.

export { EMULATION_LAG_THRESHOLD_MS } from './emulation.js';
export { createRuntime, defaultCores, REJECTION_CODES, Runtime, summarize } from './runtime.js';
export type {
  ArrivalEvent,
  CpuMode,
  CpuTrace,
  Decision,
  EdgeTpuBackendOptions,
  LatencySummary,
  Observation,
  RejectEvent,
  ReconfigureEvent,
  ReloadEvent,
  RequestTrace,
  RuntimeEvents,
  RuntimeOptions,
  RuntimeStats,
  SubmitOptions,
  SubmitResult,
  TenantChoice,
  TenantObservation,
  TenantOptions,
  TenantStats,
  TpuTrace,
} from './types.js';
