// Public API of @swapless/runtime: the live executor (one Edge TPU queue per device, per-tenant CPU stages on worker
// threads, live reconfiguration). Architecture and protocols: docs/runtime.md. Keep exports explicit.

export { DEFAULT_DEVICE_ID } from './devices.js';
export { EMULATION_LAG_THRESHOLD_MS } from './emulation.js';
export { createRuntime, defaultCores, REJECTION_CODES, Runtime, summarize } from './runtime.js';
/** The vocabulary shared with the controller, from `@swapless/contracts` (one definition, re-exported here). */
export type { CpuMode, Decision, TenantChoice, TenantChoiceInput } from '@swapless/contracts';
export type {
  ArrivalEvent,
  CpuTrace,
  DeviceCounters,
  DeviceStats,
  EdgeTpuBackendOptions,
  LatencySummary,
  Observation,
  ReconfigureRequest,
  RejectEvent,
  ReconfigureEvent,
  ReloadEvent,
  RequestTrace,
  RuntimeDeviceOptions,
  RuntimeEvents,
  RuntimeObservation,
  RuntimeOptions,
  RuntimeStats,
  SubmitOptions,
  SubmitResult,
  TenantObservation,
  TenantOptions,
  TenantStats,
  TpuTrace,
} from './types.js';
