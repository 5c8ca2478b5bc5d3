/**
 * @swapless/contracts — the vocabulary every SwapLess package speaks, in one place: the system and tenant
 * description latency models predict for, a tenant's choice and a controller decision, the CPU stage mode,
 * tensors and datatypes, model metadata, the model-name pattern, and the latency-model plugin interface. Types
 * first, no dependencies: the few values here are constants.
 */
export type { Decision, NamedChoice, TenantChoice, TenantChoiceInput } from './choice.js';
export {
  API_VERSION,
  type FitObservation,
  type JsonSchema,
  type LatencyModel,
  type LatencyModelFactory,
  PLUGIN_MANIFEST_FILE,
  PLUGIN_MANIFEST_JSON_SCHEMA,
  type PluginManifest,
} from './plugin.js';
export type {
  CpuMode,
  CpuStage,
  DeviceSetup,
  Instability,
  Prediction,
  SloPercentile,
  SwitchAwareDiscipline,
  SystemSetup,
  TenantPrediction,
  TenantSetup,
  TimeSource,
  TpuDiscipline,
  TpuStage,
} from './system.js';
export {
  DATATYPES,
  type Datatype,
  MODEL_NAME_PATTERN,
  type ModelMetadata,
  type NumericDatatype,
  type TensorArray,
  type TensorMeta,
} from './tensors.js';
