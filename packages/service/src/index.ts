// Public API of @swapless/service. Keep exports explicit.

// --- the controlled runtime (service.ts, types.ts, metadata.ts)
export { createService, Service } from './service.js';
export { EMULATION_LAGGING_FRACTION, EMULATION_WINDOW_MS } from './emulation-monitor.js';
export { HostCpuMeter } from './host-cpu.js';
export { modelMetadata } from './metadata.js';
export { DEVICE_PROFILE_NAMES } from './placement.js';
export type {
  ControllerStatus,
  EmulationStatus,
  HostShareStatus,
  DecisionRecord,
  DeviceState,
  DeviceTenant,
  DeviceUse,
  KServeDatatype,
  PredictedStages,
  SeriesSample,
  SeriesTenant,
  ServiceEvents,
  ServiceGauges,
  ServiceOptions,
  ServiceVetting,
  TenantEvent,
  TenantSpec,
  TenantStatus,
} from './types.js';
/** Model metadata and the name pattern, from `@swapless/contracts` (one definition, re-exported here). */
export { MODEL_NAME_PATTERN, type ModelMetadata, type TensorMeta } from '@swapless/contracts';
export {
  type DivergenceOptions,
  DivergenceTracker,
  type TenantDivergence,
} from './divergence.js';
export { type FrontendOptions, FrontendTimes } from './frontend.js';

// --- the latency model (latency-model.ts, fit-observations.ts; the choice's form is @swapless/queueing's)
export { fitObservations } from './fit-observations.js';
export {
  LATENCY_MODEL_CHOICE_SCHEMA,
  type LatencyModelChoice,
  latencyModelChoiceOf,
} from '@swapless/queueing';

// --- model repository (repository.ts)
export {
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_MAX_MODEL_BYTES,
  ModelRepository,
  type ModelRepositoryOptions,
  type PendingModel,
  REPOSITORY_MODEL_CONFIG_SCHEMA,
  type RepositoryModel,
  type RejectedModel,
  type RepositoryModelConfig,
  type ResolvedModel,
  type ScanOptions,
  type ScanResult,
  type SkippedModel,
} from './repository.js';
