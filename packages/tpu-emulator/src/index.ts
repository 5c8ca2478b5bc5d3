// Public API of @swapless/tpu-emulator: the calibrated Edge TPU device model. Model, calibration and
// fidelity: docs/tpu-emulator.md. Keep exports explicit.

// --- contract types (compiler, simulator and CLI depend on these shapes)
export type {
  BuiltinProfileName,
  CallBreakdown,
  CallOptions,
  CallResult,
  CompileReport,
  DeviceProfile,
  FidelityKind,
  FidelityReport,
  FidelityRow,
  LayerReport,
  ModelCompileReport,
  ParameterPlacement,
  ProfileInput,
} from './types.js';

// --- profiles
export {
  BUILTIN_PROFILE_NAMES,
  BUILTIN_PROFILES,
  getProfile,
  parseProfile,
  parseProfileJson,
  PROFILE_JSON_SCHEMA,
  ProfileErrorReasons,
  resolveProfile,
} from './profiles.js';

// --- compile report
export {
  activationReserveBytes,
  type CompileOptions,
  coCompileReports,
  compileReport,
  MIB,
  type SegmentFacts,
  segmentFacts,
} from './compile.js';

// --- timing in virtual time
export {
  type BreakdownOptions,
  callBreakdown,
  type DeviceOptions,
  layerComputeMs,
  layerStreamMs,
  reloadMs,
  VirtualDevice,
} from './timing.js';

// --- fidelity against the published figures
export {
  FIDELITY_TARGETS,
  FIDELITY_TOLERANCE_PCT,
  type FidelityModelName,
  type FidelityOptions,
  type FidelityTarget,
  fidelityReport,
  type ModelBuilder,
} from './fidelity.js';

// --- small, fast networks (and larger ones that must not regress) against published figures
export {
  PROFILE_V1_OVERRIDES,
  profilesV1,
  SMALL_MODEL_TARGETS,
  SMALL_MODEL_TOLERANCE_PCT,
  type SmallModelName,
  type SmallModelOptions,
  type SmallModelReport,
  type SmallModelRow,
  type SmallModelSet,
  type SmallModelSpec,
  type SmallModelTarget,
  type SpecModelBuilder,
  smallModelReport,
} from './small-models.js';

// --- real-time device
export { EmulatedDevice, type EmulatedDeviceOptions, type InvokeResult, sleepUntil } from './device.js';
