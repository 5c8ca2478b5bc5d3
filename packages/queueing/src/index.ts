/**
 * `@swapless/queueing`: SwapLess latency models. The default analytic model (`mg1-default`), the closed-form
 * building blocks, and the host of the latency-model plugin API — loader, registry, guard and conformance kit.
 * The {@link SystemSetup} every model predicts for and the plugin interface itself live in `@swapless/contracts`
 * and are re-exported here. Equations: docs/queueing.md; writing a plugin: docs/plugins.md.
 */
import type { FitObservation } from '@swapless/contracts';

export type {
  CpuMode,
  CpuStage,
  Instability,
  Prediction,
  SystemSetup,
  TenantPrediction,
  TenantSetup,
  TimeSource,
  TpuStage,
} from '@swapless/contracts';
export {
  bernoulliExtraMoments,
  erlangC,
  type Moments,
  mg1WaitMs,
  mgcWaitMs,
  perMs,
  sampleMoments,
} from './formulas.js';
export { SystemErrorReasons, validateSystem } from './validate.js';
export {
  type DeviceGroup,
  type DeviceUtilization,
  deviceGroups,
  deviceUtilizations,
  isMultiDevice,
  mapByDevice,
  predictByDevice,
} from './devices.js';
export {
  analyzeCpu,
  analyzeTpu,
  buildPrediction,
  type CpuAnalysis,
  cpuStageMoments,
  createDefaultModel,
  DEFAULT_MODEL_NAME,
  DEFAULT_MODEL_OPTIONS_SCHEMA,
  type DefaultModelOptions,
  defaultModel,
  objectiveMs,
  predictDefault,
  type SwitchProbabilityOverrides,
  type TpuAnalysis,
  type TpuClass,
} from './model.js';
export { analyzeSwitchAwareTpu, type SwitchAwareAnalysis } from './switch-aware.js';
export {
  API_VERSION,
  type JsonSchema,
  type LatencyModel,
  type FitObservation,
  type LatencyModelFactory,
  PLUGIN_MANIFEST_FILE,
  PLUGIN_MANIFEST_JSON_SCHEMA,
  type PluginManifest,
} from '@swapless/contracts';
/** @deprecated The name of {@link FitObservation} before 0.2 (the runtime's own samples are `RuntimeObservation`). */
export type Observation = FitObservation;
export {
  type PercentileOptions,
  predictQuantiles,
  type ResponseDistribution,
  responseDistributions,
} from './percentiles.js';
export { isValidRange, isValidVersion, satisfies } from './semver.js';
export {
  type CheckedManifest,
  isPathSpecifier,
  type LoadedPlugin,
  type LoadPluginOptions,
  loadPlugin,
  locatePlugin,
  readPluginManifest,
  validatePluginOptions,
} from './loader.js';
export {
  BUILTIN_LATENCY_MODELS,
  createLatencyModelRegistry,
  type LatencyModelSpec,
  LatencyModelRegistry,
  type RegisterOptions,
  type RegisterPluginOptions,
  type RegistryEntry,
  type RegistryOptions,
  type ResolvedLatencyModel,
} from './registry.js';
export {
  type GuardedLatencyModel,
  type GuardOptions,
  guardLatencyModel,
  type LatencyModelIdentity,
  latencyModelLabel,
  predictionProblems,
  queueingPackage,
  quickCheckLatencyModel,
} from './guard.js';
export { discoverPlugins, type InstalledPlugin } from './discover.js';
export {
  type HostedLatencyModel,
  LATENCY_MODEL_CHOICE_SCHEMA,
  type LatencyModelChoice,
  latencyModelChoiceOf,
  type ResolveChoiceOptions,
  resolveLatencyModel,
} from './choice.js';
export {
  assertLatencyModel,
  checkLatencyModel,
  type ConformanceCheck,
  type ConformanceOptions,
  type ConformanceReport,
  type ConformanceSystem,
  conformanceSystems,
  QUICK_CONFORMANCE_CHECKS,
} from './conformance.js';
/**
 * The error classes and helpers of `@swapless/core` a plugin needs to throw typed errors, re-exported so a
 * plugin can depend on `@swapless/queueing` alone.
 */
export {
  ErrorCodes,
  expected,
  InvalidArgumentError,
  InvalidConfigError,
  isSwapLessError,
  SwapLessError,
} from '@swapless/core';
